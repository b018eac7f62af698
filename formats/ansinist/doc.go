// Package ansinist reads and writes ANSI/NIST-ITL biometric transactions
// (ANSI/NIST-ITL 1-2000, 1-2007, 2-2008, 1-2011 and its 2013/2015 updates:
// versions 0200 to 0600), the format of FBI EBTS, DHS IDENT, INTERPOL INT-I
// and Prüm fingerprint exchanges.
//
// One semantic model, Transaction -> Record -> Field -> Subfield -> item,
// has two encodings:
//
//   - the traditional encoding of ANSI/NIST-ITL 1-2011 Part 1 (section 7):
//     tagged records ("T.FFF:" fields separated by GS, subfields by RS,
//     items by US, a record ended by FS) and the binary records of Types 3
//     to 8, whose type is known only from their place in the Type-1 CNT
//     field (1.003); see Decode and Transaction.Encode;
//   - the NIEM XML encoding of ANSI/NIST-ITL 2-2008 and 1-2011 Part 2
//     (Annex C), with the standard's elements for the fields of Types 1, 3
//     to 10, 13 to 17, 20 and 99 that its table maps, and extension
//     elements (namespace NSExtension) for every other field, so that a
//     traditional -> XML -> traditional conversion keeps every field; see
//     DecodeXML and Transaction.EncodeXML.
//
// The readers are lenient: real files are sloppy (two-digit field tags of
// version 0200 files, a malformed VER, CNT counts that disagree with the
// records), so each irregularity the reader can work around is reported as a
// Warning, not an error. The writers are strict: Encode refuses a
// transaction that Validate rejects, and computes every record's length
// field itself.
//
// Binary image data (the field numbered 999 of tagged records, the last
// field of binary records) is never scanned for separators: it is sliced by
// the record's length field, and its bytes alias the decoded input. Record
// and field counts are bounded by the input's size, so a short input cannot
// make the reader allocate much more than its own length.
package ansinist
