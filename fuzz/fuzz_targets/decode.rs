//! Fuzz target `decode`: one WebSocket frame from an untrusted peer.
//!
//! The frame goes through `message::decode` and, when it is a message, its payload through the
//! decoder the server or a client applies next (yrs for sync and awareness, `ext` for extension
//! messages). Nothing may panic, hang or allocate without bound, and every value the protocol crate
//! can encode must decode back to itself. Updates are decoded, never applied: applying one to a
//! document belongs in a harness that models a room.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;
use waymark_protocol::message::{self, KEEPALIVE, Message, MessageKind};
use waymark_protocol::{bounds, ext};
use yrs::sync::AwarenessUpdate;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{StateVector, Update};

fuzz_target!(|frame: &[u8]| {
    // Both extension decoders take the whole frame and must agree with the message decoder.
    let event = ext::decode_event(frame);
    let accepted = ext::decode_accepted(frame);
    let decoded = message::decode(frame);
    if event.is_some() {
        assert!(matches!(
            decoded,
            Ok(Message::Extension {
                tag: ext::MSG_EVENT,
                ..
            })
        ));
    }
    if accepted.is_some() {
        assert!(matches!(
            decoded,
            Ok(Message::Extension {
                tag: ext::MSG_EXTENSIONS,
                ..
            })
        ));
    }
    let Ok(msg) = decoded else {
        return;
    };
    if let Some(again) = reencode(&msg) {
        assert_eq!(
            message::decode(&again),
            Ok(msg),
            "re-encoded frame {again:?}"
        );
        // The server labels outgoing frames with `peek_kind`; the frames it writes are canonical.
        let kind = if again == KEEPALIVE {
            MessageKind::Keepalive
        } else {
            msg.kind()
        };
        assert_eq!(message::peek_kind(&again), Some(kind));
    }
    match msg {
        Message::SyncStep1 { state_vector } => state_vector_payload(state_vector),
        Message::SyncStep2 { update } | Message::Update { update } => update_payload(update),
        Message::Awareness { update } => awareness_payload(update),
        Message::Auth { .. } | Message::QueryAwareness => {}
        Message::Extension { tag, .. } => match tag {
            ext::MSG_EVENT => event_frame(event),
            ext::MSG_EXTENSIONS => accepted_frame(accepted),
            _ => {}
        },
    }
});

/// Settings for AddressSanitizer, read by its runtime at start-up (`ASAN_OPTIONS` overrides them).
///
/// yrs sizes its collections by the element count a message declares, with `try_reserve`: that
/// fails cleanly when the allocator refuses, as `malloc` does for a count of four billion, but
/// ASan aborts by default. Here allocations over 256 MiB return null instead: the fallible ones
/// fail as in production, an infallible one of that size still aborts and is reported. (The cost
/// of the ones below the cap is a known issue of yrs; see README.md.)
#[unsafe(no_mangle)]
pub extern "C" fn __asan_default_options() -> *const std::ffi::c_char {
    c"allocator_may_return_null=1:max_allocation_size_mb=256".as_ptr()
}

/// The message encoded again with the protocol crate's own encoder, for the kinds it has one for.
fn reencode(msg: &Message<'_>) -> Option<Vec<u8>> {
    Some(match *msg {
        Message::SyncStep1 { state_vector } => message::encode_sync_step1(state_vector),
        Message::SyncStep2 { update } => message::encode_sync_step2(update),
        Message::Update { update } => message::encode_update(update),
        Message::Awareness { update } => message::encode_awareness(update),
        Message::Auth {
            denied: Some(reason),
        } => message::encode_auth_denied(reason),
        Message::QueryAwareness => message::encode_query_awareness(),
        // A granted auth and extension bodies have no encoder here; events and the extensions
        // list are checked against theirs below.
        Message::Auth { denied: None } | Message::Extension { .. } => return None,
    })
}

// The server hands yrs only what `bounds` accepts (server/src/http/connection.rs `to_inbound`), so
// from here on only such payloads are decoded: the bounds check must let no allocation bomb,
// unbounded nesting or content yrs cannot write back through.

fn state_vector_payload(bytes: &[u8]) {
    if bounds::check_state_vector(bytes).is_err() {
        return;
    }
    // The check walks the whole encoding, so what it accepts decodes.
    let sv = StateVector::decode_v1(bytes).expect("an accepted state vector decodes");
    let again = StateVector::decode_v1(&sv.encode_v1()).expect("re-encoded state vector decodes");
    assert_eq!(again, sv);
}

fn update_payload(bytes: &[u8]) {
    if bounds::check_update(bytes).is_err() {
        return;
    }
    let Ok(update) = Update::decode_v1(bytes) else {
        return;
    };
    // The stores merge and re-encode updates: what was accepted must survive that.
    let once = update.encode_v1();
    Update::decode_v1(&once).expect("an accepted update decodes again once re-encoded");
}

fn awareness_payload(bytes: &[u8]) {
    if bounds::check_awareness(bytes).is_err() {
        return;
    }
    let Ok(update) = AwarenessUpdate::decode_v1(bytes) else {
        return;
    };
    // What the server does next: reject the message unless every state is JSON.
    for entry in update.clients.values() {
        let _ = serde_json::from_str::<IgnoredAny>(&entry.json);
    }
    let again =
        AwarenessUpdate::decode_v1(&update.encode_v1()).expect("re-encoded awareness decodes");
    assert_eq!(again, update);
}

fn event_frame(event: Option<String>) {
    if let Some(json) = event {
        assert_eq!(ext::decode_event(&ext::encode_event(&json)), Some(json));
    }
}

fn accepted_frame(accepted: Option<Vec<String>>) {
    if let Some(names) = accepted {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(
            ext::decode_accepted(&ext::encode_accepted(&refs)),
            Some(names)
        );
    }
}
