//! PostgreSQL wire formats we write by hand: `timestamptz` parameters, and binary `COPY` rows
//! for events. Encoding a whole batch into one buffer (rather than one awaited write per row)
//! keeps the ingest path to a single network round of COPY data.

use crate::model::{OrgId, SensorId, UnixMicros};
use crate::seq::Prepared;
use bytes::{BufMut, BytesMut};
use std::error::Error;
use std::net::IpAddr;
use tokio_postgres::types::{accepts, to_sql_checked, FromSql, IsNull, ToSql, Type};

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
const PG_EPOCH_OFFSET: i64 = 946_684_800_000_000;

/// A `timestamptz` as Unix microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgTime(pub UnixMicros);

impl ToSql for PgTime {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_i64(self.0.saturating_sub(PG_EPOCH_OFFSET));
        Ok(IsNull::No)
    }
    accepts!(TIMESTAMPTZ, TIMESTAMP);
    to_sql_checked!();
}

impl<'a> FromSql<'a> for PgTime {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        let v = i64::from_be_bytes(raw.try_into()?);
        Ok(PgTime(v.saturating_add(PG_EPOCH_OFFSET)))
    }
    accepts!(TIMESTAMPTZ, TIMESTAMP);
}

/// The column list matching `encode_events`.
pub const EVENT_COLUMNS: &str = "sensor_id, seq, org_id, ts, event_type, signature_id, src_ip, \
    dest_ip, src_port, dest_port, proto, flow_id, app_proto, schema_version, record";

/// One `COPY ... (FORMAT binary)` stream holding `rows`.
pub fn encode_events(sensor: SensorId, org: OrgId, rows: &[&Prepared]) -> BytesMut {
    let size: usize = rows.iter().map(|p| p.record.len() + 200).sum();
    let mut b = BytesMut::with_capacity(size + 32);
    b.put_slice(b"PGCOPY\n\xff\r\n\0");
    b.put_i32(0); // flags
    b.put_i32(0); // header extension length
    for p in rows {
        let c = &p.cols;
        b.put_i16(15);
        int8(&mut b, sensor);
        int8(&mut b, p.seq as i64);
        int8(&mut b, org);
        int8(&mut b, c.ts.saturating_sub(PG_EPOCH_OFFSET));
        text(&mut b, Some(&c.event_type));
        opt_int8(&mut b, c.signature_id);
        inet(&mut b, c.src_ip.as_deref());
        inet(&mut b, c.dest_ip.as_deref());
        opt_int4(&mut b, c.src_port);
        opt_int4(&mut b, c.dest_port);
        text(&mut b, c.proto.as_deref());
        opt_int8(&mut b, c.flow_id);
        text(&mut b, c.app_proto.as_deref());
        b.put_i32(4);
        b.put_i32(p.schema_version.min(i32::MAX as u32) as i32);
        bytes(&mut b, &p.record);
    }
    b.put_i16(-1);
    b
}

fn null(b: &mut BytesMut) {
    b.put_i32(-1);
}

fn int8(b: &mut BytesMut, v: i64) {
    b.put_i32(8);
    b.put_i64(v);
}

fn opt_int8(b: &mut BytesMut, v: Option<i64>) {
    match v {
        Some(v) => int8(b, v),
        None => null(b),
    }
}

fn opt_int4(b: &mut BytesMut, v: Option<i32>) {
    match v {
        Some(v) => {
            b.put_i32(4);
            b.put_i32(v);
        }
        None => null(b),
    }
}

fn bytes(b: &mut BytesMut, v: &[u8]) {
    b.put_i32(v.len().min(i32::MAX as usize) as i32);
    b.put_slice(v);
}

fn text(b: &mut BytesMut, v: Option<&str>) {
    // PostgreSQL text cannot hold NUL; a field with one is kept only in the raw record.
    match v {
        Some(s) if !s.contains('\0') => bytes(b, s.as_bytes()),
        _ => null(b),
    }
}

/// `inet` in binary: family, prefix bits, is_cidr, address length, address. A value that is
/// not an address becomes NULL (the record still has it).
fn inet(b: &mut BytesMut, v: Option<&str>) {
    match v.and_then(|s| s.parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(a)) => {
            b.put_i32(8);
            b.put_slice(&[2, 32, 0, 4]);
            b.put_slice(&a.octets());
        }
        Some(IpAddr::V6(a)) => {
            b.put_i32(20);
            b.put_slice(&[3, 128, 0, 16]);
            b.put_slice(&a.octets());
        }
        None => null(b),
    }
}
