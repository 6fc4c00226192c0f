//! Authority contacts (being written).
use crate::db::AnyConnection;
pub fn seed_demo(_conn: &mut AnyConnection) -> anyhow::Result<()> {
    Ok(())
}
