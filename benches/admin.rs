//! The admin UI's two performance targets (issue 3):
//! - the week view of a schedule with 1,200 slots in the week, as a whole HTTP request on
//!   loopback (signed in; queries, query-module explanations and rendering): ≤ 50 ms;
//! - a bulk edit of 10,000 slots (select, checks, one UPDATE, one audit row each): ≤ 1 s.
//!
//! cargo bench --bench admin
//! (`cargo test --all-targets` runs each once on 120 and 200 slots.)

use std::net::TcpListener;

use bookable::availability::audience::{Audience, Audiences};
use bookable::availability::codes::OdsCode;
use bookable::availability::manage::{self, SlotBookability, SlotSelection};
use bookable::availability::query;
use bookable::availability::rules::Bookability;
use bookable::change_log::Actor;
use bookable::db::ids::{PracticeId, ScheduleId};
use bookable::db::pg_local::LocalPostgres;
use bookable::server;
use bookable::state::AppState;
use bookable::users::{self, Role};
use bookable::{db, practice};
use chrono::{Days, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamptz};

const PASSWORD: &str = "bench password 2026";

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// A schedule of `count` slots five minutes apart from `first` (local midnight), every third
/// one booked.
fn schedule_with_slots(
    conn: &mut PgConnection,
    practice: PracticeId,
    location: i64,
    name: &str,
    first: NaiveDate,
    count: i32,
) -> ScheduleId {
    let schedule = diesel::sql_query(
        "INSERT INTO schedules (practice_id, external_id, location_id, schedule_type,
                                practitioner_role, delivery_channel, gpc_bookable, audiences)
         VALUES ($1, $2, $3, $2, 'R0260', 'In-person', true, '{type:urgent-care}') RETURNING id",
    )
    .bind::<BigInt, _>(practice.0)
    .bind::<Text, _>(name)
    .bind::<BigInt, _>(location)
    .get_result::<Id>(conn)
    .unwrap()
    .id;
    diesel::sql_query(
        "INSERT INTO slots (practice_id, schedule_id, external_id, start_at, end_at, status, slot_type)
         SELECT $1, $2, $3 || '-' || g, $4 + g * interval '5 minutes', $4 + (g + 1) * interval '5 minutes',
                CASE WHEN g % 3 = 0 THEN 'busy' ELSE 'free' END, 'Routine GP appointment'
         FROM generate_series(0, $5 - 1) g",
    )
    .bind::<BigInt, _>(practice.0)
    .bind::<BigInt, _>(schedule)
    .bind::<Text, _>(name)
    .bind::<Timestamptz, _>(query::local_midnight(first))
    .bind::<Integer, _>(count)
    .execute(conn)
    .unwrap();
    ScheduleId(schedule)
}

fn admin(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    let (week_slots, bulk_slots) = if full { (1_200, 10_000) } else { (120, 200) };
    let pg = LocalPostgres::start().unwrap();
    diesel::sql_query("CREATE DATABASE bench")
        .execute(&mut PgConnection::establish(&pg.url("postgres")).unwrap())
        .unwrap();
    let url = pg.url("bench");
    let mut conn = PgConnection::establish(&url).unwrap();
    db::migrate(&mut conn).unwrap();
    let actor = Actor::system("bench");
    let practice = practice::upsert(
        &mut conn,
        &actor,
        &OdsCode::parse("A20047").unwrap(),
        "Bench practice",
        9_000,
    )
    .unwrap()
    .id;
    let location = diesel::sql_query(
        "INSERT INTO locations (practice_id, external_id, name) VALUES ($1, 'L1', 'Main') RETURNING id",
    )
    .bind::<BigInt, _>(practice.0)
    .get_result::<Id>(&mut conn)
    .unwrap()
    .id;
    let monday = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
    let week = schedule_with_slots(&mut conn, practice, location, "WEEK", monday, week_slots);
    let bulk_first = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
    schedule_with_slots(
        &mut conn, practice, location, "BULK", bulk_first, bulk_slots,
    );
    diesel::sql_query("ANALYZE").execute(&mut conn).unwrap();
    users::upsert(
        &mut conn,
        &actor,
        "bench.manager",
        "Bench Manager",
        PASSWORD,
        &[(practice, Role::Manager)],
    )
    .unwrap();

    // The server, as `bookable serve` runs it, on its own thread.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db::pool(&url, 4).unwrap());
    // Started inside its runtime: serve spawns its housekeeping tasks on it.
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = server::run(listener, state).unwrap();
            tx.send(server.handle()).unwrap();
            server.serve().await
        })
    });
    let handle = rx.recv().unwrap();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    rt.block_on(async {
        let login = client.get(format!("{base}/login")).send().await.unwrap();
        let html = login.text().await.unwrap();
        let marker = "name=\"csrf_token\" value=\"";
        let at = html.find(marker).unwrap() + marker.len();
        let token = &html[at..at + 64];
        let r = client
            .post(format!("{base}/login"))
            .form(&[
                ("csrf_token", token),
                ("username", "bench.manager"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "signed in");
    });
    let week_url = format!("{base}/practices/A20047/week?schedule={week}&week={monday}");
    let week_page = || {
        rt.block_on(async {
            let r = client.get(&week_url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        })
    };
    let html = week_page();
    assert_eq!(html.matches("data-exposed=").count(), week_slots as usize);

    let mut group = c.benchmark_group("admin");
    group.sample_size(10);
    group.bench_function(format!("week_view_{week_slots}_slots"), |b| {
        b.iter(week_page)
    });

    let selection = SlotSelection {
        schedule: None,
        first_day: bulk_first,
        last_day: bulk_first + Days::new(40),
        weekdays: vec![],
        from_time: None,
        until_time: None,
        slot_type: Some("Routine GP appointment".into()),
        no_slot_type: false,
    };
    let settings = [
        SlotBookability::Own(Bookability {
            bookable: true,
            audiences: Audiences::new(vec![Audience::ods(OdsCode::parse("Y03032").unwrap())]),
        }),
        SlotBookability::Own(Bookability::default()),
    ];
    let mut flip = 0;
    let bench_actor = Actor::system("bench bulk edit");
    group.bench_function(format!("bulk_edit_{bulk_slots}_slots"), |b| {
        b.iter(|| {
            flip = 1 - flip;
            let outcome = manage::bulk_update_slots(
                &mut conn,
                &bench_actor,
                practice,
                &selection,
                &settings[flip],
            )
            .unwrap();
            assert_eq!(outcome.changed, bulk_slots as usize);
        })
    });
    group.finish();

    rt.block_on(handle.stop(true));
    thread.join().unwrap().unwrap();
    drop(conn);
    drop(pg);
}

criterion_group!(benches, admin);
criterion_main!(benches);
