//! Uploads through presigned URLs in a real browser (Chromium and Firefox, headless), against
//! a real S3-compatible store (s3s-fs) behind the dev server, with injected faults: bytes in
//! the bucket, fresh URLs, retries, the outbox, recovery names. Scenarios:
//! `tests/browser/uploads.js`.
#![cfg(target_arch = "wasm32")]

mod support;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

scenarios_with_dev_server!("/tests/browser/uploads.js":
    bytes_reach_the_store,
    a_relative_presign_endpoint,
    presign_callback_and_post_policy,
    fresh_url_after_a_refused_signature,
    retries_through_server_errors,
    outbox_then_flush,
    the_engine_retries_its_outbox,
    next_engine_uploads_the_outbox,
    a_full_outbox_says_so,
    a_closed_page_loses_nothing,
    a_flush_leaves_a_live_pages_upload_alone,
    two_pages_send_each_image_once,
    the_byte_limit_holds_across_pages,
    uploads_go_on_without_web_locks,
    a_hung_store_holds_little_and_loses_nothing,
    a_hung_store_holds_at_most_64_images,
    a_permanent_refusal_is_reported_and_kept,
    callbacks_time_out_and_destroy_aborts_them,
    a_task_uploads_every_image,
    a_task_keeps_each_streams_latest,
    periodic_uploads_keep_pace,
    an_outbox_that_never_answers_loses_nothing,
    an_outbox_that_never_answers_holds_at_most_64_images,
    recovered_tasks_name_their_files_bak,
);
