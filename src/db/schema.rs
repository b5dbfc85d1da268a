// Diesel table definitions, kept in step with migrations/ by hand (no diesel CLI on CI machines);
// tests/it/schema.rs compares them with the migrated database, as `diesel print-schema` would.

diesel::table! {
    practices (id) {
        id -> Int8,
        ods_code -> Text,
        name -> Text,
        list_size -> Int4,
        created_at -> Timestamptz,
        asid -> Nullable<Text>,
    }
}

diesel::table! {
    locations (id) {
        id -> Int8,
        practice_id -> Int8,
        external_id -> Text,
        name -> Text,
        address_lines -> Array<Text>,
        postcode -> Nullable<Text>,
        phone -> Nullable<Text>,
    }
}

diesel::table! {
    practitioners (id) {
        id -> Int8,
        practice_id -> Int8,
        external_id -> Text,
        family_name -> Text,
        given_name -> Nullable<Text>,
        prefix -> Nullable<Text>,
        sds_user_id -> Nullable<Text>,
        sds_role_profile_id -> Nullable<Text>,
        gender -> Nullable<Text>,
    }
}

diesel::table! {
    schedules (id) {
        id -> Int8,
        practice_id -> Int8,
        external_id -> Text,
        location_id -> Int8,
        practitioner_id -> Nullable<Int8>,
        schedule_type -> Nullable<Text>,
        practitioner_role -> Nullable<Text>,
        delivery_channel -> Nullable<Text>,
        gpc_bookable -> Bool,
        version -> Int4,
        book_from_days -> Nullable<Int4>,
        book_until_minutes -> Nullable<Int4>,
        audiences -> Array<Text>,
    }
}

diesel::table! {
    slots (id) {
        id -> Int8,
        practice_id -> Int8,
        schedule_id -> Int8,
        external_id -> Text,
        start_at -> Timestamptz,
        end_at -> Timestamptz,
        status -> Text,
        slot_type -> Nullable<Text>,
        delivery_channel -> Nullable<Text>,
        gpc_bookable -> Nullable<Bool>,
        version -> Int4,
        book_from_days -> Nullable<Int4>,
        book_until_minutes -> Nullable<Int4>,
        audiences -> Array<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    user_practices (user_id, practice_id) {
        user_id -> Int8,
        practice_id -> Int8,
        role -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        at -> Timestamptz,
        practice_id -> Nullable<Int8>,
        user_id -> Nullable<Int8>,
        actor -> Text,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Int8>,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
    }
}

diesel::table! {
    gpconnect_audit (id, at) {
        id -> Int8,
        at -> Timestamptz,
        practice_ods -> Text,
        method -> Text,
        path_query -> Text,
        ssp_trace_id -> Nullable<Text>,
        ssp_from -> Nullable<Text>,
        ssp_to -> Nullable<Text>,
        interaction -> Nullable<Text>,
        status -> Int2,
        error_code -> Nullable<Text>,
        jwt_claims -> Nullable<Jsonb>,
        sanitised -> Bool,
    }
}

diesel::table! {
    gpconnect_audit_exports (month) {
        month -> Date,
        rows -> Int8,
        file -> Text,
        exported_at -> Timestamptz,
        dropped_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sign_in_limits (kind, key) {
        kind -> Text,
        key -> Text,
        tat -> Timestamptz,
        allowed -> Bool,
    }
}

diesel::joinable!(locations -> practices (practice_id));
diesel::joinable!(practitioners -> practices (practice_id));
diesel::joinable!(schedules -> practices (practice_id));
diesel::joinable!(schedules -> locations (location_id));
diesel::joinable!(schedules -> practitioners (practitioner_id));
diesel::joinable!(slots -> schedules (schedule_id));
diesel::joinable!(user_practices -> users (user_id));
diesel::joinable!(user_practices -> practices (practice_id));
diesel::joinable!(audit_log -> practices (practice_id));

diesel::allow_tables_to_appear_in_same_query!(
    practices,
    locations,
    practitioners,
    schedules,
    slots,
    users,
    user_practices,
    audit_log,
    org_groups,
    org_group_members,
    booking_limits,
    bookings,
);

diesel::table! {
    admin_sessions (key_hash) {
        key_hash -> Bytea,
        state -> Jsonb,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    org_groups (id) {
        id -> Int8,
        practice_id -> Int8,
        name -> Text,
    }
}

diesel::table! {
    org_group_members (group_id, ods_code) {
        group_id -> Int8,
        ods_code -> Text,
    }
}

diesel::table! {
    booking_limits (id) {
        id -> Int8,
        practice_id -> Int8,
        schedule_id -> Nullable<Int8>,
        org_type -> Nullable<Text>,
        ods_code -> Nullable<Text>,
        group_id -> Nullable<Int8>,
        period -> Text,
        max_slots -> Int4,
    }
}

diesel::table! {
    bookings (id) {
        id -> Int8,
        practice_id -> Int8,
        slot_id -> Int8,
        booked_by_ods -> Text,
        booked_by_org_type -> Nullable<Text>,
        booked_at -> Timestamptz,
        released_at -> Nullable<Timestamptz>,
        slot_start_at -> Timestamptz,
    }
}

diesel::joinable!(org_group_members -> org_groups (group_id));
diesel::joinable!(bookings -> slots (slot_id));

diesel::table! {
    report_settings (id) {
        id -> Bool,
        nhs111_patients_per_appointment -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    api_credentials (id) {
        id -> Int8,
        name -> Text,
        secret_sha256 -> Bytea,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    api_credential_practices (credential_id, practice_id) {
        credential_id -> Int8,
        practice_id -> Int8,
    }
}

diesel::joinable!(api_credential_practices -> api_credentials (credential_id));
diesel::joinable!(api_credential_practices -> practices (practice_id));
diesel::allow_tables_to_appear_in_same_query!(api_credentials, api_credential_practices, practices);

diesel::table! {
    patients (id) {
        id -> Int8,
        practice_id -> Int8,
        nhs_number -> Text,
        nhs_number_verified -> Bool,
        pds_verified_at -> Nullable<Timestamptz>,
        family_name -> Text,
        given_names -> Array<Text>,
        name_prefix -> Nullable<Text>,
        other_names -> Jsonb,
        birth_date -> Date,
        gender -> Nullable<Text>,
        addresses -> Jsonb,
        telecoms -> Jsonb,
        language -> Nullable<Text>,
        interpreter_required -> Nullable<Bool>,
        registration_type -> Text,
        registration_start -> Date,
        registration_end -> Nullable<Date>,
        active -> Bool,
        deceased -> Bool,
        sensitive -> Bool,
        preferred_branch_id -> Nullable<Int8>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    patient_registrations (id) {
        id -> Int8,
        practice_id -> Int8,
        patient_id -> Int8,
        registered_at -> Timestamptz,
        kind -> Text,
        org_ods_code -> Text,
        org_name -> Nullable<Text>,
        ssp_from -> Nullable<Text>,
        ssp_trace_id -> Nullable<Text>,
    }
}

diesel::joinable!(patient_registrations -> patients (patient_id));
diesel::allow_tables_to_appear_in_same_query!(patients, patient_registrations, locations);
diesel::joinable!(patients -> locations (preferred_branch_id));

diesel::table! {
    /// A view (migrations `…_slot_effective`, `…_groups_limits_windows`, `…_audiences`): each slot with the
    /// bookability in force, its own where it overrides its schedule's. Read only.
    slot_effective (id) {
        id -> Int8,
        practice_id -> Int8,
        schedule_id -> Int8,
        external_id -> Text,
        start_at -> Timestamptz,
        end_at -> Timestamptz,
        status -> Text,
        slot_type -> Nullable<Text>,
        delivery_channel -> Nullable<Text>,
        practitioner_role -> Nullable<Text>,
        schedule_type -> Nullable<Text>,
        location_id -> Int8,
        practitioner_id -> Nullable<Int8>,
        overrides_schedule -> Bool,
        gpc_bookable -> Bool,
        audiences -> Array<Text>,
        book_from_days -> Nullable<Int4>,
        book_until_minutes -> Nullable<Int4>,
    }
}

// The report summary cache (`reports::summary`) has no primary key; diesel needs one named, so
// these name the columns its index covers.
diesel::table! {
    report_summary (practice_id, day, kind) {
        practice_id -> Int8,
        day -> Date,
        kind -> Text,
        exposed -> Nullable<Bool>,
        mask -> Nullable<Int4>,
        key -> Nullable<Text>,
        ods_codes -> Nullable<Array<Text>>,
        group_ids -> Nullable<Array<Int8>>,
        slots -> Int8,
        secs -> Float8,
        busy_slots -> Int8,
        busy_secs -> Float8,
    }
}

diesel::table! {
    report_summary_week (practice_id, week, kind) {
        practice_id -> Int8,
        week -> Date,
        kind -> Text,
        key -> Nullable<Text>,
        ods_codes -> Nullable<Array<Text>>,
        group_ids -> Nullable<Array<Int8>>,
        slots -> Int8,
        secs -> Float8,
        busy_slots -> Int8,
        busy_secs -> Float8,
    }
}

diesel::table! {
    report_summary_dirty (practice_id, day) {
        practice_id -> Int8,
        day -> Date,
    }
}

diesel::table! {
    appointments (id) {
        id -> Int8,
        practice_id -> Int8,
        patient_id -> Int8,
        source -> Text,
        external_id -> Nullable<Text>,
        status -> Text,
        start_at -> Timestamptz,
        end_at -> Timestamptz,
        booking_ods_code -> Text,
        booking_org_type -> Nullable<Text>,
        booking_org_name -> Text,
        booking_org_telecom -> Jsonb,
        description -> Text,
        comment -> Nullable<Text>,
        cancellation_reason -> Nullable<Text>,
        identifiers -> Jsonb,
        created -> Timestamptz,
        recorded_at -> Timestamptz,
        cancelled_at -> Nullable<Timestamptz>,
        version -> Int4,
    }
}

diesel::table! {
    appointment_slots (appointment_id, slot_id) {
        appointment_id -> Int8,
        slot_id -> Int8,
        booking_id -> Nullable<Int8>,
    }
}

diesel::table! {
    appointment_events (seq) {
        seq -> Int8,
        practice_id -> Int8,
        appointment_id -> Int8,
        kind -> Text,
        at -> Timestamptz,
        payload -> Jsonb,
    }
}

diesel::joinable!(appointments -> patients (patient_id));
diesel::joinable!(appointment_slots -> appointments (appointment_id));
diesel::joinable!(appointment_slots -> slots (slot_id));
diesel::joinable!(appointment_events -> appointments (appointment_id));
diesel::allow_tables_to_appear_in_same_query!(appointments, appointment_slots, appointment_events);
diesel::allow_tables_to_appear_in_same_query!(appointments, slots);
diesel::allow_tables_to_appear_in_same_query!(appointments, schedules);
diesel::allow_tables_to_appear_in_same_query!(appointments, patients);
diesel::allow_tables_to_appear_in_same_query!(appointment_slots, slots);
diesel::allow_tables_to_appear_in_same_query!(appointment_slots, schedules);
diesel::allow_tables_to_appear_in_same_query!(appointment_slots, bookings);
