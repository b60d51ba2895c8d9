//! Frame draw time of the debugger at 200×60 under TestBackend, for two_layer (target < 2 ms)
//! and ocr_letters (target < 10 ms), mid-backward so that every pane has numbers to show; and
//! one epoch of ocr_letters finished in the debugger (`E`: stepped on the job's worker thread
//! while this thread polls it and draws a frame about every 33 ms, as the real loop does)
//! against the same epoch headless (target: at most 1.5×).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bptui::engine::Backward;
use bptui::model::Model;
use bptui::session::Session;
use bptui::tui::app::Finish;
use bptui::tui::{update, Action, App, Theme};
use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

fn app(name: &str) -> App {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models").join(name);
    let mut app = App::new(Session::new(Model::load(&path).expect("model loads"), Backward::B), Theme { color: true });
    update(&mut app, Action::Finish(Finish::Phase));
    bptui::tui::run::wait(&mut app);
    for _ in 0..3 {
        update(&mut app, Action::Step);
    }
    app.set_area(Rect::new(0, 0, 200, 60));
    app
}

fn draw(c: &mut Criterion) {
    for (name, file) in [("two_layer", "two_layer.yaml"), ("ocr_letters", "ocr_letters.yaml")] {
        let app = app(file);
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("terminal");
        c.bench_function(&format!("draw_{name}_200x60"), |b| {
            b.iter(|| {
                terminal.draw(|f| f.render_widget(&app, f.area())).expect("draw");
            })
        });
    }
}

fn epoch(c: &mut Criterion) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/ocr_letters.yaml");
    let model = Model::load(&path).expect("model loads");
    let mut group = c.benchmark_group("ocr_letters_one_epoch");
    group.sample_size(20);
    group.bench_function("headless", |b| {
        b.iter(|| {
            let mut session = Session::new(model.clone(), Backward::B);
            session.finish_epoch();
        })
    });
    group.bench_function("debugger_E", |b| {
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("terminal");
        b.iter(|| {
            let mut app = App::new(Session::new(model.clone(), Backward::B), Theme { color: true });
            update(&mut app, Action::Finish(Finish::Epoch));
            let mut frame = Instant::now();
            while app.running() {
                if frame.elapsed() >= Duration::from_millis(33) {
                    terminal.draw(|f| f.render_widget(&app, f.area())).expect("draw");
                    frame = Instant::now();
                }
                std::thread::sleep(Duration::from_millis(1));
                update(&mut app, Action::Tick);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, draw, epoch);
criterion_main!(benches);
