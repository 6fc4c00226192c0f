//! Table definitions, written by hand with portable types (TEXT ids, JSON as TEXT, UTC TIMESTAMP).

diesel::table! {
    stats_snapshots (key) {
        key -> Text,
        groups -> Text,
        mark -> Nullable<Timestamp>,
        computed_at -> Timestamp,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    organizations (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        prefecture -> Nullable<Text>,
        beds -> Nullable<Integer>,
        code -> Nullable<Text>,
        regional_roles -> Text,
        authority -> Nullable<Text>,
        skills -> Text,
        coverage -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        legal_status -> Nullable<Text>,
        municipality -> Nullable<Text>,
        remote_access -> Text,
    }
}

diesel::table! {
    sign_in_failures (email, client) {
        email -> Text,
        client -> Text,
        failures -> Integer,
        last_failure_at -> Nullable<Timestamp>,
        wait_until -> Nullable<Timestamp>,
        last_success_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        org_id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Text,
        totp_secret -> Nullable<Text>,
        totp_pending_secret -> Nullable<Text>,
        totp_last_step -> Nullable<BigInt>,
        availability -> Nullable<Text>,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        end_reason -> Nullable<Text>,
    }
}

diesel::table! {
    reference_counters (year) {
        year -> Integer,
        last_value -> Integer,
    }
}

diesel::table! {
    incidents (id) {
        id -> Text,
        reference -> Text,
        hospital_id -> Text,
        prefecture -> Text,
        beds -> Nullable<Integer>,
        title -> Text,
        category -> Text,
        care_impact -> Text,
        personal_data_status -> Text,
        facts -> Text,
        drill -> Bool,
        status -> Text,
        severity -> Text,
        severity_overridden -> Bool,
        tlp -> Text,
        priority_score -> Integer,
        priority_factors -> Text,
        priority_due_at -> Timestamp,
        routing -> Text,
        overdue_obligations -> Integer,
        detected_at -> Timestamp,
        aware_at -> Timestamp,
        reported_at -> Timestamp,
        reported_via -> Text,
        reported_by -> Text,
        triaged_at -> Nullable<Timestamp>,
        dispatch_accepted_at -> Nullable<Timestamp>,
        on_site_at -> Nullable<Timestamp>,
        emr_restored_at -> Nullable<Timestamp>,
        emergency_accepting_at -> Nullable<Timestamp>,
        new_outpatients_accepting_at -> Nullable<Timestamp>,
        fully_normal_at -> Nullable<Timestamp>,
        report_published_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        version -> Integer,
        updated_at -> Timestamp,
        rules_version -> Text,
        links_checked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    incident_routes (incident_id, authority) {
        incident_id -> Text,
        authority -> Text,
        requirement -> Text,
    }
}

diesel::table! {
    incident_updates (id) {
        id -> Text,
        incident_id -> Text,
        kind -> Text,
        body -> Nullable<Text>,
        data -> Text,
        author_id -> Nullable<Text>,
        author_name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, idem_key) {
        user_id -> Text,
        idem_key -> Text,
        request_hash -> Text,
        response_status -> Integer,
        response_body -> Text,
        resource_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_heads (chain) {
        chain -> Text,
        seq -> BigInt,
        hash -> Text,
        checkpointed_seq -> BigInt,
    }
}

diesel::table! {
    audit_reads (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_label -> Text,
        action -> Text,
        incident_id -> Nullable<Text>,
        request_id -> Nullable<Text>,
        details -> Text,
        keyed -> Bool,
        mac -> Text,
    }
}

diesel::table! {
    audit_checkpoints (seq) {
        seq -> BigInt,
        at -> Timestamp,
        entries -> BigInt,
        reads -> BigInt,
        heads -> Text,
        keyed -> Bool,
        prev_mac -> Text,
        mac -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        chain -> Text,
        seq -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_label -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        incident_id -> Nullable<Text>,
        request_id -> Nullable<Text>,
        details -> Text,
        prev_hash -> Text,
        hash -> Text,
        keyed -> Bool,
    }
}

diesel::table! {
    contacts (id) {
        id -> Text,
        authority -> Text,
        prefecture -> Nullable<Text>,
        hospital_id -> Nullable<Text>,
        name -> Text,
        channel -> Text,
        address -> Text,
        instructions -> Nullable<Text>,
        locale -> Text,
        drill -> Bool,
        effective_from -> Date,
        effective_until -> Nullable<Date>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        municipality -> Nullable<Text>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        incident_id -> Nullable<Text>,
        kind -> Text,
        authority -> Nullable<Text>,
        contact_id -> Nullable<Text>,
        dedup_key -> Text,
        recipients -> Text,
        locale -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        in_reply_to -> Nullable<Text>,
        thread_references -> Nullable<Text>,
    }
}

diesel::table! {
    obligations (id) {
        id -> Text,
        incident_id -> Text,
        kind -> Text,
        authority -> Text,
        due_at -> Nullable<Timestamp>,
        reminder_at -> Nullable<Timestamp>,
        reminded_at -> Nullable<Timestamp>,
        overdue_notified_at -> Nullable<Timestamp>,
        fulfilled_at -> Nullable<Timestamp>,
        fulfilled_reference -> Nullable<Text>,
        fulfilled_by -> Nullable<Text>,
        created_at -> Timestamp,
        version -> Integer,
        legal_due_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    support_requests (id) {
        id -> Text,
        incident_id -> Text,
        needs -> Text,
        mode -> Text,
        note -> Nullable<Text>,
        status -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
    }
}

diesel::table! {
    dispatches (id) {
        id -> Text,
        incident_id -> Text,
        team_id -> Text,
        responder_ids -> Text,
        mode -> Text,
        status -> Text,
        assigned_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        en_route_at -> Nullable<Timestamp>,
        on_site_at -> Nullable<Timestamp>,
        released_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        created_by -> Text,
        version -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(users -> organizations (org_id));
diesel::joinable!(incidents -> organizations (hospital_id));
diesel::joinable!(incident_updates -> incidents (incident_id));
diesel::joinable!(incident_routes -> incidents (incident_id));
diesel::joinable!(obligations -> incidents (incident_id));
diesel::joinable!(dispatches -> incidents (incident_id));
diesel::joinable!(support_requests -> incidents (incident_id));

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        events -> Text,
        owner_id -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_until -> Nullable<Timestamp>,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        incident_id -> Nullable<Text>,
        channel -> Text,
        direction -> Text,
        message_id -> Nullable<Text>,
        in_reply_to -> Nullable<Text>,
        thread_references -> Text,
        from_address -> Nullable<Text>,
        from_name -> Nullable<Text>,
        to_addresses -> Text,
        cc_addresses -> Text,
        subject -> Text,
        body -> Text,
        sent_at -> Nullable<Timestamp>,
        party_kind -> Text,
        party_id -> Nullable<Text>,
        party_label -> Nullable<Text>,
        authority -> Nullable<Text>,
        auto_reply -> Bool,
        sender_check -> Text,
        matched_by -> Nullable<Text>,
        inbox_reason -> Nullable<Text>,
        notification_id -> Nullable<Text>,
        author_id -> Nullable<Text>,
        raw_size -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    message_attachments (id) {
        id -> Text,
        message_id -> Text,
        position -> Integer,
        filename -> Nullable<Text>,
        declared_type -> Nullable<Text>,
        sniffed_type -> Nullable<Text>,
        size -> BigInt,
        sha256 -> Text,
        content -> Nullable<Binary>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    leases (name) {
        name -> Text,
        holder -> Text,
        until -> Timestamp,
    }
}

diesel::table! {
    checklist_items (org_id, item) {
        org_id -> Text,
        item -> Text,
        done -> Bool,
        done_since -> Nullable<Date>,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::table! {
    checklist_history (id) {
        id -> Text,
        org_id -> Text,
        item -> Text,
        done -> Bool,
        done_since -> Nullable<Date>,
        recorded_at -> Timestamp,
        recorded_by -> Text,
    }
}

diesel::table! {
    incident_links (incident_id, kind, value) {
        incident_id -> Text,
        kind -> Text,
        value -> Text,
        hospital_id -> Text,
        reported_at -> Timestamp,
        drill -> Bool,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Text,
        status -> Text,
        drill -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        note -> Nullable<Text>,
        version -> Integer,
    }
}

diesel::table! {
    campaign_incidents (campaign_id, incident_id) {
        campaign_id -> Text,
        incident_id -> Text,
        joined_at -> Timestamp,
    }
}

diesel::table! {
    advisories (id) {
        id -> Text,
        title -> Text,
        body -> Text,
        title_en -> Nullable<Text>,
        body_en -> Nullable<Text>,
        criteria -> Text,
        campaign_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    advisory_recipients (advisory_id, org_id) {
        advisory_id -> Text,
        org_id -> Text,
        notified_at -> Nullable<Timestamp>,
        reminded_at -> Nullable<Timestamp>,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledged_by -> Nullable<Text>,
    }
}

diesel::joinable!(message_attachments -> messages (message_id));
diesel::joinable!(campaign_incidents -> campaigns (campaign_id));
diesel::joinable!(campaign_incidents -> incidents (incident_id));
diesel::joinable!(advisory_recipients -> advisories (advisory_id));
diesel::joinable!(advisory_recipients -> organizations (org_id));

diesel::allow_tables_to_appear_in_same_query!(
    settings,
    organizations,
    users,
    refresh_tokens,
    sessions,
    sign_in_failures,
    reference_counters,
    incidents,
    incident_routes,
    incident_updates,
    idempotency_keys,
    audit_heads,
    audit_reads,
    audit_checkpoints,
    stats_snapshots,
    audit_log,
    contacts,
    notifications,
    obligations,
    support_requests,
    dispatches,
    webhooks,
    messages,
    message_attachments,
    leases,
    checklist_items,
    checklist_history,
    incident_links,
    campaigns,
    campaign_incidents,
    advisories,
    advisory_recipients,
);
