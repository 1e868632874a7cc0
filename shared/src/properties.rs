//! v5 properties on the wire: identifiers, reading with duplicate and
//! placement checks, writing.
