//! Fuzzes the XML-RPC response and call decoders: any input gives a value, a fault or an error, never a
//! panic; a decoded value re-encodes to bytes that decode to the same encoding again.
#![no_main]

use koschei_core::koji::xmlrpc;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Ok(value)) = xmlrpc::decode_response(data) {
        let once = xmlrpc::encode_response(&value);
        let back = xmlrpc::decode_response(&once)
            .expect("our own encoding decodes")
            .expect("not a fault");
        assert_eq!(xmlrpc::encode_response(&back), once);
    }
    let _ = xmlrpc::decode_call(data);
});
