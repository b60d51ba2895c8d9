//! Frame draw time of the debugger at 200×60 under TestBackend, for two_layer (target < 2 ms)
//! and ocr_letters (target < 10 ms), mid-backward so that every pane has numbers to show.

use std::path::PathBuf;

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
    app.finish_job();
    for _ in 0..3 {
        update(&mut app, Action::Step);
    }
    app.area = Rect::new(0, 0, 200, 60);
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

criterion_group!(benches, draw);
criterion_main!(benches);
