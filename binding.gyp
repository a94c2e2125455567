{
  "targets": [
    {
      "target_name": "sigil_native",
      "sources": ["src/crypto/native/ecdsa-digest.c"]
    }
  ]
}
