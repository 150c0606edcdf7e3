//! One hand-made case for each leak of issue 11, each asserting through the solver that the
//! withheld count is not pinned down and keeps the whole 0..=t−1 interval. Figures are chosen
//! so that the leak is one subtraction, worked out in each comment.

use renewal_query::{AreaLevel, Benchmark};

use super::{Attack, Call, World, warehouse_for};

const A: &str = "E08000001";
const B: &str = "E08000002";

async fn attack<'w>(world: &'w World, calls: &[Call]) -> Attack<'w> {
    let (engine, dir) = warehouse_for(world).await;
    let mut attack = Attack::new(world);
    for c in calls {
        attack.issue(&engine, c).await;
    }
    drop(dir);
    attack
}

fn assert_protected(attack: &Attack, lsoas: &[&str], period: &str) {
    if let Some(l) = attack.check(lsoas, period) {
        panic!(
            "{} is not protected [{}]:\n{}\ncalls:\n{}",
            l.target,
            l.kind,
            l.explanation,
            attack.log.join("\n")
        );
    }
}

fn versus(selection: &str, vintage: usize) -> Call {
    Call::Versus {
        selection: selection.into(),
        authority: A.into(),
        period: None,
        vintage,
    }
}

fn gap(level: AreaLevel, benchmark: Benchmark, vintage: usize, period: Option<&str>) -> Call {
    Call::Gap {
        level,
        benchmark,
        vintage,
        authority: Some(A.into()),
        period: period.map(String::from),
    }
}

/// The issue's formula: selecting one LSOA (3 of 150) withholds its numerator but returns the
/// rest (12 + 9 = 21 of 380) and the authority value (24 / 530 = 4.528…%), so
/// 4.528…% × 530 / 100 − 21 = 3.
#[tokio::test]
async fn versus_on_one_lsoa() {
    let world = World::hand(
        &["2016"],
        &[
            ("E01000001", "E05000001", "E05100001", A, &[(3, 150)]),
            ("E01000002", "E05000001", "E05100001", A, &[(12, 200)]),
            ("E01000003", "E05000002", "E05100002", A, &[(9, 180)]),
            ("E01000004", "E05000003", "E05100003", B, &[(20, 250)]),
        ],
    );
    let a = attack(&world, &[versus("areas:E01000001", 0)]).await;
    assert_protected(&a, &["E01000001"], "2016");
}

/// Ward W1 (2 + 1 = 3) is withheld, but its denominator (250) is shown beside the authority
/// benchmark (21 of 600) and the other wards (10 and 8): W1 = 21 − 10 − 8 = 3.
#[tokio::test]
async fn ward_gap_recovers_a_withheld_ward() {
    let world = World::hand(
        &["2016"],
        &[
            ("E01000001", "E05000001", "E05100001", A, &[(2, 120)]),
            ("E01000002", "E05000001", "E05100001", A, &[(1, 130)]),
            ("E01000003", "E05000002", "E05100002", A, &[(10, 200)]),
            ("E01000004", "E05000003", "E05100002", A, &[(8, 150)]),
            ("E01000005", "E05000004", "E05100003", B, &[(15, 200)]),
        ],
    );
    let a = attack(
        &world,
        &[gap(AreaLevel::Ward, Benchmark::Authority, 0, None)],
    )
    .await;
    assert_protected(&a, &["E01000001", "E01000002"], "2016");
    assert_protected(&a, &["E01000001"], "2016");
}

fn three_lsoas() -> World {
    World::hand(
        &["2016"],
        &[
            ("E01000001", "E05000001", "E05100001", A, &[(2, 150)]),
            ("E01000002", "E05000001", "E05100001", A, &[(9, 200)]),
            ("E01000003", "E05000001", "E05100001", A, &[(15, 220)]),
            ("E01000004", "E05000002", "E05100002", A, &[(12, 180)]),
            ("E01000005", "E05000003", "E05100003", B, &[(20, 250)]),
        ],
    )
}

/// areas:L1,L2 shows 11, areas:L2 shows 9: L1 = 11 − 9 = 2.
#[tokio::test]
async fn areas_list_differencing() {
    let world = three_lsoas();
    let a = attack(
        &world,
        &[
            versus("areas:E01000001,E01000002", 0),
            versus("areas:E01000002", 0),
        ],
    )
    .await;
    assert_protected(&a, &["E01000001"], "2016");
}

/// Neighbourhoods {L1, L2, L3} (26) and {L2, L3} (24) differ by L1: 26 − 24 = 2.
#[tokio::test]
async fn neighbourhood_differencing() {
    let world = three_lsoas();
    let register = |id: &str, lsoas: &[&str]| Call::Neighbourhood {
        id: id.into(),
        lsoas: lsoas.iter().map(|l| l.to_string()).collect(),
    };
    let a = attack(
        &world,
        &[
            register("n1", &["E01000001", "E01000002", "E01000003"]),
            register("n2", &["E01000002", "E01000003"]),
            versus("neighbourhood:n1", 0),
            versus("neighbourhood:n2", 0),
        ],
    )
    .await;
    assert_protected(&a, &["E01000001"], "2016");
}

/// Against England, so no authority figure helps: the LSOA table withholds L1 (3) but shows
/// L2 (8) and L3 (7); the ward table shows W1 (18): L1 = 18 − 8 − 7 = 3.
#[tokio::test]
async fn lsoa_gap_against_ward_gap() {
    let world = World::hand(
        &["2016"],
        &[
            ("E01000001", "E05000001", "E05100001", A, &[(3, 150)]),
            ("E01000002", "E05000001", "E05100001", A, &[(8, 160)]),
            ("E01000003", "E05000001", "E05100001", A, &[(7, 170)]),
            ("E01000004", "E05000002", "E05100002", A, &[(11, 200)]),
            ("E01000005", "E05000003", "E05100003", B, &[(20, 250)]),
        ],
    );
    let a = attack(
        &world,
        &[
            gap(AreaLevel::Lsoa, Benchmark::England, 0, None),
            gap(AreaLevel::Ward, Benchmark::England, 0, None),
        ],
    )
    .await;
    assert_protected(&a, &["E01000001"], "2016");
}

/// WD19 ward W1 = {L1, L2, L3} (16) and WD24 ward X1 = {L2, L3} (12) differ by L1: 4.
#[tokio::test]
async fn switching_ward_vintages() {
    let world = World::hand(
        &["2016"],
        &[
            ("E01000001", "E05000001", "E05100002", A, &[(4, 150)]),
            ("E01000002", "E05000001", "E05100001", A, &[(6, 160)]),
            ("E01000003", "E05000001", "E05100001", A, &[(6, 170)]),
            ("E01000004", "E05000002", "E05100002", A, &[(10, 200)]),
            ("E01000005", "E05000003", "E05100003", B, &[(20, 250)]),
        ],
    );
    let a = attack(
        &world,
        &[
            gap(AreaLevel::Ward, Benchmark::England, 0, None),
            gap(AreaLevel::Ward, Benchmark::England, 1, None),
        ],
    )
    .await;
    assert_protected(&a, &["E01000001"], "2016");
}

/// The series for L1 withholds 2016 (2) but shows the rest that year (9 + 12 = 21); the
/// authority in 2016 (23) comes from the LAD table: 23 − 21 = 2.
#[tokio::test]
async fn other_periods_of_a_series() {
    let world = World::hand(
        &["2016", "2017"],
        &[
            (
                "E01000001",
                "E05000001",
                "E05100001",
                A,
                &[(2, 150), (7, 150)],
            ),
            (
                "E01000002",
                "E05000001",
                "E05100001",
                A,
                &[(9, 200), (10, 200)],
            ),
            (
                "E01000003",
                "E05000002",
                "E05100002",
                A,
                &[(12, 180), (6, 180)],
            ),
            (
                "E01000004",
                "E05000003",
                "E05100003",
                B,
                &[(20, 250), (21, 250)],
            ),
        ],
    );
    let a = attack(
        &world,
        &[
            Call::Narrowing {
                selection: "areas:E01000001".into(),
                authority: A.into(),
                vintage: 0,
            },
            gap(AreaLevel::Lad, Benchmark::England, 0, Some("2016")),
        ],
    )
    .await;
    assert_protected(&a, &["E01000001"], "2016");
}

/// L1's profile withholds its value (2) but gives its authority (12) and England (32); L2's
/// profile gives L2 (10): L1 = 12 − 10 = 2.
#[tokio::test]
async fn profile_with_authority_and_england_values() {
    let world = World::hand(
        &["2016"],
        &[
            ("E01000001", "E05000001", "E05100001", A, &[(2, 150)]),
            ("E01000002", "E05000001", "E05100001", A, &[(10, 200)]),
            ("E01000003", "E05000002", "E05100002", B, &[(20, 250)]),
        ],
    );
    let profile = |area: &str| Call::Profile {
        area: area.into(),
        vintage: 0,
    };
    let a = attack(&world, &[profile("E01000001"), profile("E01000002")]).await;
    assert_protected(&a, &["E01000001"], "2016");
}
