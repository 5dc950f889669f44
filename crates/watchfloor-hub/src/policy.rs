//! Who may see and do what: the one place the hub decides it. Handlers ask here and pass the
//! answer to the store as a filter, so the database returns only what may be read (nothing is
//! loaded and then dropped).
//!
//! - **Sensor data** belongs to the sensor's organisation. It may be read by that
//!   organisation, by its state's organisation (a `state` organisation reads the `local`
//!   organisations with its state code), by the national organisation, and by the
//!   organisations the owner has put on its share list (none by default). Nobody else.
//!   Sensor data counts as TLP:AMBER (named recipient organisations), so reads are audited.
//! - **Shared objects** carry a TLP 2.0 label, decided by [`tlp_allows`].
//! - **Roles**: every role may read what its organisation may read; only `admin` manages the
//!   organisation's people and its share list ([`allows`]).

use watchfloor_store::{Org, OrgId, OrgKind, Role, UserId};

/// Which organisations' sensor data `reader` may read, as the store's
/// `EventFilter::orgs`: `None` means every organisation (the national organisation).
/// `orgs` is every organisation; `sharing_with_reader` the owners whose share list names the
/// reader.
pub fn readable_orgs(
    reader: &Org,
    orgs: &[Org],
    sharing_with_reader: &[OrgId],
) -> Option<Vec<OrgId>> {
    if reader.kind == OrgKind::National {
        return None;
    }
    let mut ids: Vec<OrgId> = vec![reader.id];
    if reader.kind == OrgKind::State {
        if let Some(code) = &reader.state {
            ids.extend(
                orgs.iter()
                    .filter(|o| o.kind == OrgKind::Local && o.state.as_ref() == Some(code))
                    .map(|o| o.id),
            );
        }
    }
    ids.extend_from_slice(sharing_with_reader);
    ids.sort_unstable();
    ids.dedup();
    Some(ids)
}

/// Whether `reader` may read sensor data of organisation `owner` (the same rule as
/// [`readable_orgs`], for one owner).
pub fn may_read_org_data(reader: &Org, owner: &Org, owner_shares_with_reader: bool) -> bool {
    reader.kind == OrgKind::National
        || reader.id == owner.id
        || (reader.kind == OrgKind::State
            && owner.kind == OrgKind::Local
            && reader.state.is_some()
            && reader.state == owner.state)
        || owner_shares_with_reader
}

/// What a role may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read what the organisation may read (events, its share list, oneself).
    Read,
    /// Create and revoke one's own personal tokens, sign out.
    ManageOwnTokens,
    /// Add, list and disable the organisation's people; revoke their tokens.
    ManageUsers,
    /// Change the organisation's share list.
    ManageShares,
}

pub fn allows(role: Role, action: Action) -> bool {
    match action {
        Action::Read | Action::ManageOwnTokens => true,
        Action::ManageUsers | Action::ManageShares => role == Role::Admin,
    }
}

/// TLP 2.0 labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Tlp {
    /// Anyone, also unauthenticated public pages.
    #[serde(rename = "CLEAR")]
    Clear,
    /// Every organisation of the community (every signed-in person on this hub).
    #[serde(rename = "GREEN")]
    Green,
    /// The owner and the named recipient organisations.
    #[serde(rename = "AMBER")]
    Amber,
    /// The owner and exactly one recipient organisation.
    #[serde(rename = "AMBER+STRICT")]
    AmberStrict,
    /// Named people only.
    #[serde(rename = "RED")]
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// Reads of these are audited.
    pub fn is_restricted(self) -> bool {
        matches!(self, Tlp::Amber | Tlp::AmberStrict | Tlp::Red)
    }
}

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// Not signed in (public pages).
    Public,
    User {
        user: UserId,
        org: OrgId,
    },
}

/// A shared object's label and recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shared<'a> {
    pub tlp: Tlp,
    pub owner_org: OrgId,
    /// Who created it (always may read it, also under RED).
    pub author: UserId,
    /// AMBER: recipient organisations; AMBER+STRICT: exactly one.
    pub recipient_orgs: &'a [OrgId],
    /// RED: the people it is for.
    pub recipient_users: &'a [UserId],
}

/// Whether `reader` may see `obj`. Pure; fails closed on a malformed object (AMBER+STRICT
/// naming other than one organisation is readable by its owner only).
pub fn tlp_allows(reader: Reader, obj: &Shared<'_>) -> bool {
    let (user, org) = match reader {
        Reader::Public => return obj.tlp == Tlp::Clear,
        Reader::User { user, org } => (user, org),
    };
    match obj.tlp {
        Tlp::Clear | Tlp::Green => true,
        Tlp::Amber => org == obj.owner_org || obj.recipient_orgs.contains(&org),
        Tlp::AmberStrict => {
            org == obj.owner_org || matches!(obj.recipient_orgs, [only] if *only == org)
        }
        Tlp::Red => user == obj.author || obj.recipient_users.contains(&user),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: OrgId, kind: OrgKind, state: Option<&str>) -> Org {
        Org {
            id,
            name: format!("org {id}"),
            kind,
            state: state.map(Into::into),
            county_fips: None,
            parent: None,
            created_at: 0,
        }
    }

    /// The readers of the TLP table: (name, reader).
    /// Owner org 1 (author user 10, colleague 11); recipient org 2 (user 20); another
    /// recipient org 3 (user 30); unrelated org 4 (user 40, named in RED's list: 41 is not).
    fn readers() -> Vec<(&'static str, Reader)> {
        vec![
            ("public", Reader::Public),
            ("author", Reader::User { user: 10, org: 1 }),
            ("owner colleague", Reader::User { user: 11, org: 1 }),
            ("recipient org", Reader::User { user: 20, org: 2 }),
            ("second recipient org", Reader::User { user: 30, org: 3 }),
            ("named person elsewhere", Reader::User { user: 40, org: 4 }),
            ("unrelated", Reader::User { user: 41, org: 4 }),
        ]
    }

    #[test]
    fn tlp_table_is_exhaustive() {
        // Rows: readers in the order above; columns: CLEAR, GREEN, AMBER (orgs 2,3),
        // AMBER+STRICT (org 2), RED (user 40).
        let expected: [[bool; 5]; 7] = [
            [true, false, false, false, false], // public
            [true, true, true, true, true],     // author
            [true, true, true, true, false],    // colleague: RED is for named people
            [true, true, true, true, false],    // recipient org 2
            [true, true, true, false, false],   // org 3: AMBER yes, STRICT (org 2 only) no
            [true, true, false, false, true],   // named person: RED yes, org 4 not AMBER
            [true, true, false, false, false],  // unrelated
        ];
        let mut cells = 0;
        for (r, (name, reader)) in readers().into_iter().enumerate() {
            for (c, tlp) in Tlp::ALL.into_iter().enumerate() {
                let orgs: &[OrgId] = match tlp {
                    Tlp::AmberStrict => &[2],
                    _ => &[2, 3],
                };
                let obj = Shared {
                    tlp,
                    owner_org: 1,
                    author: 10,
                    recipient_orgs: orgs,
                    recipient_users: &[40],
                };
                assert_eq!(
                    tlp_allows(reader, &obj),
                    expected[r][c],
                    "{name} reading {tlp:?}"
                );
                cells += 1;
            }
        }
        assert_eq!(cells, 35);
    }

    #[test]
    fn tlp_fails_closed() {
        let reader = Reader::User { user: 20, org: 2 };
        let strict_two = Shared {
            tlp: Tlp::AmberStrict,
            owner_org: 1,
            author: 10,
            recipient_orgs: &[2, 3],
            recipient_users: &[],
        };
        assert!(!tlp_allows(reader, &strict_two), "STRICT with two orgs");
        assert!(tlp_allows(Reader::User { user: 11, org: 1 }, &strict_two));
        let red_nobody = Shared {
            tlp: Tlp::Red,
            recipient_orgs: &[2],
            ..strict_two
        };
        assert!(
            !tlp_allows(reader, &red_nobody),
            "RED ignores organisations"
        );
        assert!(!tlp_allows(
            Reader::Public,
            &Shared {
                tlp: Tlp::Green,
                ..red_nobody
            }
        ));
        assert!(Tlp::ALL.iter().filter(|t| t.is_restricted()).count() == 3);
        let label: Tlp = serde_json::from_str("\"AMBER+STRICT\"").unwrap();
        assert_eq!(label, Tlp::AmberStrict);
    }

    #[test]
    fn sensor_data_readers() {
        let national = org(1, OrgKind::National, None);
        let pa = org(2, OrgKind::State, Some("PA"));
        let phl = org(3, OrgKind::Local, Some("PA"));
        let pgh = org(4, OrgKind::Local, Some("PA"));
        let oh = org(5, OrgKind::State, Some("OH"));
        let cle = org(6, OrgKind::Local, Some("OH"));
        let vendor_pa = org(7, OrgKind::Vendor, Some("PA"));
        let federal = org(8, OrgKind::Federal, None);
        let all = vec![
            national.clone(),
            pa.clone(),
            phl.clone(),
            pgh.clone(),
            oh.clone(),
            cle.clone(),
            vendor_pa.clone(),
            federal.clone(),
        ];
        assert_eq!(readable_orgs(&national, &all, &[]), None);
        assert_eq!(readable_orgs(&pa, &all, &[]), Some(vec![2, 3, 4]));
        assert_eq!(
            readable_orgs(&phl, &all, &[]),
            Some(vec![3]),
            "not the other county"
        );
        assert_eq!(
            readable_orgs(&vendor_pa, &all, &[]),
            Some(vec![7]),
            "state code alone grants nothing"
        );
        assert_eq!(readable_orgs(&federal, &all, &[6, 3]), Some(vec![3, 6, 8]));
        assert_eq!(readable_orgs(&oh, &all, &[]), Some(vec![5, 6]));
        // The one-owner form agrees with the list form for every pair.
        for reader in &all {
            for owner in &all {
                for shared in [false, true] {
                    let sharing: &[OrgId] = if shared { &[owner.id] } else { &[] };
                    let in_list = readable_orgs(reader, &all, sharing)
                        .is_none_or(|ids| ids.contains(&owner.id));
                    assert_eq!(
                        may_read_org_data(reader, owner, shared),
                        in_list,
                        "{} reading {}",
                        reader.id,
                        owner.id
                    );
                }
            }
        }
    }

    #[test]
    fn roles() {
        for role in Role::ALL {
            assert!(allows(role, Action::Read));
            assert!(allows(role, Action::ManageOwnTokens));
            assert_eq!(allows(role, Action::ManageUsers), role == Role::Admin);
            assert_eq!(allows(role, Action::ManageShares), role == Role::Admin);
        }
    }
}
