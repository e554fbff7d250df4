//! Bad input to every exported method and option, in a real browser (Chromium and Firefox,
//! headless): one test per row of the "Bad input" table in docs/api.md, each checking the
//! code, the message and that the engine still works afterwards. Scenarios:
//! `tests/browser/bad_input.js`.
#![cfg(target_arch = "wasm32")]

mod support;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

scenarios_with_dev_server!("/tests/browser/bad_input.js":
    wrong_types,
    objects_that_are_not_tracks,
    null_and_undefined,
    nan_and_infinity,
    negative_and_huge_sizes,
    bad_rotations,
    bad_watermarks,
    audio_tracks,
    stopped_tracks,
    unknown_users_stream_types_and_tasks,
    long_and_non_ascii_ids,
    unsafe_paths,
    unsafe_templates,
    unknown_template_placeholders,
    bad_task_requests,
    presigner_throws,
    presigner_never_answers,
    presigner_returns_garbage,
    presigner_returns_plain_http,
    secrets_in_storage_options,
    secrets_in_names_depths_and_queries,
    bad_options_and_listeners,
    throwing_listeners,
    calls_after_destroy,
    reentrant_calls,
);
