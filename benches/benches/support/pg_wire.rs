//! The PostgreSQL wire floor: a tenant-bound transaction measured in raw
//! protocol messages, so that no driver's own cost hides what binding the
//! tenant per transaction (and the RLS policy it feeds) costs the server.
//!
//! Each shape is one write and one read on a blocking socket. The only
//! authentication handled is `trust` (what the test servers use); anything
//! else is reported and the group is skipped.

use std::io::{Read, Write};
use std::net::TcpStream;

use bytes::BytesMut;
use postgres_protocol::IsNull;
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

/// How the statements of one request are framed on the wire.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape {
    /// The baseline: the query with a literal tenant filter, one Sync.
    Literal,
    /// `set_config(setting, tenant, true)` then the scoped query, one Sync:
    /// both run in the protocol's implicit transaction, which ends at Sync.
    ImplicitTransaction,
    /// BEGIN, `set_config`, the scoped query, COMMIT, one Sync.
    BeginCommitOneSync,
    /// BEGIN, `set_config`, the scoped query, COMMIT, each with its own
    /// Sync: what a driver that pipelines whole requests sends.
    BeginCommitSyncEach,
}

/// One raw protocol connection.
pub(crate) struct WireConn {
    stream: TcpStream,
    inbox: BytesMut,
    outbox: BytesMut,
}

/// What one request returned.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Reply {
    /// The first column of every data row, as text.
    pub(crate) first_columns: Vec<String>,
}

fn text_param(
    value: &&str,
    buf: &mut BytesMut,
) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
    buf.extend_from_slice(value.as_bytes());
    Ok(IsNull::No)
}

impl WireConn {
    /// Opens a connection as `user` to `database` (trust authentication only).
    pub(crate) fn connect(
        host: &str,
        port: u16,
        user: &str,
        database: &str,
    ) -> Result<WireConn, String> {
        let stream = TcpStream::connect((host, port)).map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut conn = WireConn {
            stream,
            inbox: BytesMut::new(),
            outbox: BytesMut::new(),
        };
        frontend::startup_message([("user", user), ("database", database)], &mut conn.outbox)
            .map_err(|e| e.to_string())?;
        conn.flush()?;
        conn.read_replies(1)?;
        Ok(conn)
    }

    /// Prepares named statements (`name`, `sql`), text parameters throughout.
    pub(crate) fn prepare(&mut self, statements: &[(&str, &str)]) -> Result<(), String> {
        for (name, sql) in statements {
            frontend::parse(name, sql, std::iter::empty(), &mut self.outbox)
                .map_err(|e| e.to_string())?;
        }
        frontend::sync(&mut self.outbox);
        self.flush()?;
        self.read_replies(1).map(drop)
    }

    fn bind_execute(&mut self, statement: &str, params: &[&str]) -> Result<(), String> {
        frontend::bind(
            "",
            statement,
            Some(0),
            params.iter(),
            text_param,
            Some(0),
            &mut self.outbox,
        )
        .map_err(|_| format!("binding `{statement}` failed"))?;
        frontend::execute("", 0, &mut self.outbox).map_err(|e| e.to_string())
    }

    /// Sends one request in `shape` and reads every reply to it. The named
    /// statements `literal`, `set_tenant`, `scoped`, `begin` and `commit`
    /// must be prepared; `key` is the row asked for.
    pub(crate) fn request(
        &mut self,
        shape: Shape,
        tenant: &str,
        key: &str,
    ) -> Result<Reply, String> {
        let literal = [key];
        let set_tenant = [tenant];
        let scoped = [tenant, key];
        let one_statement: [(&str, &[&str]); 1] = [("literal", &literal)];
        let bound: [(&str, &[&str]); 2] = [("set_tenant", &set_tenant), ("scoped", &scoped)];
        let bound_in_block: [(&str, &[&str]); 4] = [
            ("begin", &[]),
            ("set_tenant", &set_tenant),
            ("scoped", &scoped),
            ("commit", &[]),
        ];
        let steps: &[(&str, &[&str])] = match shape {
            Shape::Literal => &one_statement,
            Shape::ImplicitTransaction => &bound,
            Shape::BeginCommitOneSync | Shape::BeginCommitSyncEach => &bound_in_block,
        };
        let sync_each = matches!(shape, Shape::BeginCommitSyncEach);
        for (statement, params) in steps {
            self.bind_execute(statement, params)?;
            if sync_each {
                frontend::sync(&mut self.outbox);
            }
        }
        if !sync_each {
            frontend::sync(&mut self.outbox);
        }
        self.flush()?;
        self.read_replies(if sync_each { steps.len() } else { 1 })
    }

    /// Runs a statement without parameters on its own (simple protocol).
    pub(crate) fn simple(&mut self, sql: &str) -> Result<Reply, String> {
        frontend::query(sql, &mut self.outbox).map_err(|e| e.to_string())?;
        self.flush()?;
        self.read_replies(1)
    }

    fn flush(&mut self) -> Result<(), String> {
        self.stream
            .write_all(&self.outbox)
            .map_err(|e| e.to_string())?;
        self.outbox.clear();
        Ok(())
    }

    /// Reads until `ready` ReadyForQuery messages; an error reply is
    /// returned as `Err` once its ReadyForQuery has arrived.
    fn read_replies(&mut self, mut ready: usize) -> Result<Reply, String> {
        let mut reply = Reply::default();
        let mut error = None;
        let mut chunk = [0_u8; 16 * 1024];
        loop {
            while let Some(message) = Message::parse(&mut self.inbox).map_err(|e| e.to_string())? {
                match message {
                    Message::ReadyForQuery(_) => {
                        ready -= 1;
                        if ready == 0 {
                            return error.map_or(Ok(reply), Err);
                        }
                    }
                    Message::DataRow(row) => {
                        let mut ranges = row.ranges();
                        let first = fallible_iterator::FallibleIterator::next(&mut ranges)
                            .map_err(|e| e.to_string())?
                            .flatten()
                            .map(|r| String::from_utf8_lossy(&row.buffer()[r]).into_owned())
                            .unwrap_or_default();
                        reply.first_columns.push(first);
                    }
                    Message::ErrorResponse(body) => {
                        let fields: Vec<String> = fallible_iterator::FallibleIterator::collect(
                            fallible_iterator::FallibleIterator::map(body.fields(), |f| {
                                Ok(String::from_utf8_lossy(f.value_bytes()).into_owned())
                            }),
                        )
                        .map_err(|e: std::io::Error| e.to_string())?;
                        error.get_or_insert(fields.join(" | "));
                    }
                    Message::AuthenticationOk
                    | Message::ParameterStatus(_)
                    | Message::BackendKeyData(_)
                    | Message::ParseComplete
                    | Message::BindComplete
                    | Message::CommandComplete(_)
                    | Message::NoticeResponse(_)
                    | Message::RowDescription(_)
                    | Message::NoData => {}
                    _ => {
                        return Err(
                            "unsupported reply (only trust authentication is handled)".into()
                        );
                    }
                }
            }
            let read = self.stream.read(&mut chunk).map_err(|e| e.to_string())?;
            if read == 0 {
                return Err(error.unwrap_or_else(|| "the server closed the connection".into()));
            }
            self.inbox.extend_from_slice(&chunk[..read]);
        }
    }
}
