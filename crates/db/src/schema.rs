// @generated automatically by Diesel CLI.

diesel::table! {
    account_metrics (id) {
        id -> Int8,
        account_id -> Uuid,
        synced_at -> Timestamptz,
        followers -> Nullable<Int8>,
        following -> Nullable<Int8>,
        posts -> Nullable<Int8>,
    }
}

diesel::table! {
    drafts (id) {
        id -> Uuid,
        owner_id -> Text,
        text -> Text,
        variants -> Jsonb,
        media_ids -> Array<Nullable<Uuid>>,
        account_ids -> Array<Nullable<Uuid>>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        template_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    mastodon_apps (id) {
        id -> Uuid,
        instance -> Text,
        client_id -> Text,
        client_secret_enc -> Bytea,
        key_id -> Text,
        redirect_uri -> Text,
        scopes -> Text,
        created_at -> Timestamptz,
        max_characters -> Nullable<Int4>,
        max_media_attachments -> Nullable<Int4>,
        characters_reserved_per_url -> Nullable<Int4>,
    }
}

diesel::table! {
    media (id) {
        id -> Uuid,
        owner_id -> Text,
        mime_type -> Text,
        size_bytes -> Int8,
        sha256 -> Bytea,
        width -> Nullable<Int4>,
        height -> Nullable<Int4>,
        duration_ms -> Nullable<Int4>,
        storage_key -> Text,
        created_at -> Timestamptz,
        alt_text -> Nullable<Text>,
    }
}

diesel::table! {
    oauth_states (state_hash) {
        state_hash -> Bytea,
        owner_id -> Text,
        platform -> Text,
        pkce_verifier_enc -> Nullable<Bytea>,
        redirect_to -> Text,
        instance -> Nullable<Text>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    outbox (id) {
        id -> Uuid,
        seq -> Int8,
        event_type -> Text,
        envelope -> Jsonb,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
        publish_attempts -> Int4,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    pending_connections (ticket_hash) {
        ticket_hash -> Bytea,
        owner_id -> Text,
        platform -> Text,
        instance_url -> Nullable<Text>,
        payload_enc -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    post_attempts (id) {
        id -> Uuid,
        target_id -> Uuid,
        attempt_no -> Int4,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        http_status -> Nullable<Int4>,
        outcome -> Text,
        error_code -> Nullable<Text>,
        error_message -> Nullable<Text>,
        response -> Nullable<Jsonb>,
        account_id -> Nullable<Uuid>,
        kind -> Text,
        part -> Int4,
    }
}

diesel::table! {
    post_deletions (target_id) {
        target_id -> Uuid,
        post_id -> Uuid,
        account_id -> Uuid,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        lease_until -> Nullable<Timestamptz>,
        claim_id -> Nullable<Uuid>,
        error_code -> Nullable<Text>,
        last_error -> Nullable<Text>,
        requested_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    post_metrics (id) {
        id -> Int8,
        target_id -> Uuid,
        fetched_at -> Timestamptz,
        likes -> Nullable<Int8>,
        replies -> Nullable<Int8>,
        reposts -> Nullable<Int8>,
        quotes -> Nullable<Int8>,
        saves -> Nullable<Int8>,
        impressions -> Nullable<Int8>,
        views -> Nullable<Int8>,
        reach -> Nullable<Int8>,
    }
}

diesel::table! {
    post_parts (post_id, position) {
        post_id -> Uuid,
        position -> Int4,
        kind -> Text,
        text -> Text,
        media_ids -> Array<Nullable<Uuid>>,
    }
}

diesel::table! {
    post_target_parts (target_id, position) {
        target_id -> Uuid,
        position -> Int4,
        platform_post_id -> Text,
        url -> Nullable<Text>,
        published_at -> Timestamptz,
    }
}

diesel::table! {
    post_targets (id) {
        id -> Uuid,
        post_id -> Uuid,
        account_id -> Uuid,
        platform -> Text,
        text -> Text,
        media_ids -> Array<Nullable<Uuid>>,
        status -> Text,
        due_at -> Timestamptz,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        lease_until -> Nullable<Timestamptz>,
        platform_post_id -> Nullable<Text>,
        url -> Nullable<Text>,
        error_code -> Nullable<Text>,
        last_error -> Nullable<Text>,
        published_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        options -> Jsonb,
        claim_id -> Nullable<Uuid>,
        metrics_due_at -> Nullable<Timestamptz>,
        metrics_round -> Int4,
        follow_ups -> Int4,
    }
}

diesel::table! {
    posts (id) {
        id -> Uuid,
        owner_id -> Text,
        draft_id -> Nullable<Uuid>,
        text -> Text,
        media_ids -> Array<Nullable<Uuid>>,
        variants -> Jsonb,
        idempotency_key -> Nullable<Text>,
        request_hash -> Nullable<Bytea>,
        scheduled_at -> Nullable<Timestamptz>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    processed_events (consumer, event_id) {
        consumer -> Text,
        event_id -> Uuid,
        processed_at -> Timestamptz,
    }
}

diesel::table! {
    retention_marks (sweep) {
        sweep -> Text,
        mark_at -> Timestamptz,
        mark_id -> Text,
        rewound_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    social_accounts (id) {
        id -> Uuid,
        owner_id -> Text,
        platform -> Text,
        platform_account_id -> Text,
        account_kind -> Text,
        display_name -> Nullable<Text>,
        handle -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        profile_url -> Nullable<Text>,
        instance_url -> Nullable<Text>,
        scopes -> Array<Nullable<Text>>,
        access_token_enc -> Nullable<Bytea>,
        refresh_token_enc -> Nullable<Bytea>,
        token_key_id -> Nullable<Text>,
        token_expires_at -> Nullable<Timestamptz>,
        refresh_expires_at -> Nullable<Timestamptz>,
        status -> Text,
        health_score -> Int2,
        last_error -> Nullable<Text>,
        followers_count -> Nullable<Int8>,
        following_count -> Nullable<Int8>,
        posts_count -> Nullable<Int8>,
        last_synced_at -> Nullable<Timestamptz>,
        last_refreshed_at -> Nullable<Timestamptz>,
        refresh_attempts -> Int4,
        next_refresh_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        refresh_claimed_until -> Nullable<Timestamptz>,
        refresh_fence -> Nullable<Uuid>,
        refresh_lease_until -> Nullable<Timestamptz>,
        paused_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    templates (id) {
        id -> Uuid,
        owner_id -> Text,
        name -> Text,
        text -> Text,
        variants -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(account_metrics -> social_accounts (account_id));
diesel::joinable!(drafts -> templates (template_id));
diesel::joinable!(post_attempts -> post_targets (target_id));
diesel::joinable!(post_attempts -> social_accounts (account_id));
diesel::joinable!(post_deletions -> post_targets (target_id));
diesel::joinable!(post_deletions -> posts (post_id));
diesel::joinable!(post_deletions -> social_accounts (account_id));
diesel::joinable!(post_metrics -> post_targets (target_id));
diesel::joinable!(post_parts -> posts (post_id));
diesel::joinable!(post_target_parts -> post_targets (target_id));
diesel::joinable!(post_targets -> posts (post_id));
diesel::joinable!(post_targets -> social_accounts (account_id));
diesel::joinable!(posts -> drafts (draft_id));

diesel::allow_tables_to_appear_in_same_query!(
    account_metrics,
    drafts,
    mastodon_apps,
    media,
    oauth_states,
    outbox,
    pending_connections,
    post_attempts,
    post_deletions,
    post_metrics,
    post_parts,
    post_target_parts,
    post_targets,
    posts,
    processed_events,
    retention_marks,
    social_accounts,
    templates,
);
