#![no_main]
//! The served device's gate reads these bytes from anyone who connects,
//! before any token: its request parser, its WebSocket frame parser and its
//! decoder of burn's `Init` must refuse or accept them, never panic, and
//! never wait on a length they were merely told.

use manual_backprop::backend::remote::gate::wire;

libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    let budget = 64 * 1024;
    if let Ok(Some(request)) = wire::parse_request(input, budget) {
        assert_eq!(request.head.len() + request.rest.len(), input.len());
        assert!(request.head.len() <= wire::MAX_HEAD);
    }
    let mut rest = input;
    while let Ok(Some((frame, used))) = wire::parse_client_frame(rest, budget) {
        assert!(used >= 6 && used <= rest.len());
        assert!(frame.payload.len() <= budget);
        rest = &rest[used..];
    }
    if let Ok(init) = wire::decode_init(input) {
        let again = wire::decode_init(&init.encode()).expect("an encoded Init decodes");
        assert_eq!(again, init);
    }
});
