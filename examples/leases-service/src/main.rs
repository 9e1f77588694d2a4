//! The reference multi-tenant leases service.

fn main() {
    println!("leases-service: not yet implemented");
}
