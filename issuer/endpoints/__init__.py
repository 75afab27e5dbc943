"""One module per protocol endpoint, named as in OID4VCI 1.0; each takes plain values and returns plain values."""
