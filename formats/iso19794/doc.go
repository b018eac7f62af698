// Package iso19794 reads and writes the ISO/IEC 19794 family of biometric
// data interchange records and their ANSI INCITS counterparts.
//
// Finger minutiae records (files minutiae*.go) follow ISO/IEC 19794-2:2005
// ("FMR\0" " 20\0", clause 7) and ANSI INCITS 378-2004 (same magic and
// version, clause 6): a record header, one or more finger views, each with its
// minutiae and an optional extended data area whose blocks (ridge counts,
// cores and deltas, vendor data) are kept as raw bytes.
//
// Readers are lenient: they accept the irregularities found in real files
// (wrong version bytes, record lengths that disagree with the data, padding,
// out-of-range angles, either convention for extended block lengths) and
// report each as a Warning with its byte offset. They fail with an error that
// says what was wrong and where only when the bytes cannot be understood.
// Memory taken by a read is bounded by the input size. Writers are strict:
// they refuse values the standard does not allow, and what they write reads
// back to the same record and re-encodes to the same bytes.
package iso19794
