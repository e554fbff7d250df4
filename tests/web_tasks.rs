//! Periodic snapshot tasks in a real browser (Chromium and Firefox, headless): two local
//! streams and a WebRTC loopback remote stream, the worker clock, a real HTTP endpoint for
//! CallbackUrl (the dev server that scripts/test.sh starts). Scenarios: `tests/browser/tasks.js`.
#![cfg(target_arch = "wasm32")]

mod support;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

scenarios_with_dev_server!("/tests/browser/tasks.js":
    task_over_three_streams,
    change_threshold_keeps_only_changed_pictures,
    change_threshold_on_the_page,
    stop_and_resume_one_stream,
    idle_auto_stop,
    repeated_start,
    update_interval,
    two_tasks_at_once,
    no_events_after_stop,
    callback_url,
    rotated_task_images,
    watermarked_task_images,
);
