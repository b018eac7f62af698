package ansinist

import (
	"strconv"
	"strings"
)

// Field mnemonics from the field tables of ANSI/NIST-ITL 1-2011 (with its
// 2013 update) for the standard record types, from 1-2007 for the legacy
// Types 3, 5 and 6, and from the FBI EBTS for Type-2, whose content the
// standard leaves to the domain (1.013 DOM). Each string lists
// "number:MNEMONIC" pairs.
var mnemonicTables = map[int]string{
	1: "1:LEN 2:VER 3:CNT 4:TOT 5:DAT 6:PRY 7:DAI 8:ORI 9:TCN 10:TCR 11:NSR 12:NTR 13:DOM 14:GMT 15:DCS 16:APS 17:ANM 18:GNS",
	3: "1:LEN 2:IDC 3:IMP 4:FGP 5:ISR 6:HLL 7:VLL 8:GCA 9:DATA",
	4: "1:LEN 2:IDC 3:IMP 4:FGP 5:ISR 6:HLL 7:VLL 8:GCA 9:DATA",
	5: "1:LEN 2:IDC 3:IMP 4:FGP 5:ISR 6:HLL 7:VLL 8:BCA 9:DATA",
	6: "1:LEN 2:IDC 3:IMP 4:FGP 5:ISR 6:HLL 7:VLL 8:BCA 9:DATA",
	7: "1:LEN 2:IDC 3:DATA",
	8: "1:LEN 2:IDC 3:SIG 4:SRT 5:ISR 6:HLL 7:VLL 8:DATA",
	9: "1:LEN 2:IDC 3:IMP 4:FMT 5:OFR 6:FGP 7:FPC 8:CRP 9:DLT 10:MIN 11:RDG 12:MRC " +
		// FBI IAFIS feature set (EBTS Appendix J), fields 13-30.
		"14:FGN 15:NMN 16:FCP 17:APC 18:ROV 19:COF 20:ORN 21:CRA 22:DLA 23:MAT 24:CHQ " +
		// INCITS 378 ("M1") block, fields 126-141.
		"126:CBI 127:CEI 128:HLL 129:VLL 130:SLC 131:THPS 132:TVPS 133:FVW 134:FGP 135:FQD 136:NOM 137:FMD 138:RCI 139:CIN 140:DIN 141:ADA " +
		// Extended feature set (EFS), fields 300-373.
		"300:ROI 301:ORT 302:FPP 303:FSP 307:PAT 308:RQM 309:RQF 310:RFM 311:RFF 312:RWM 313:RWF 314:TRV 315:PLR 316:FQM 317:PGS " +
		"320:COR 321:DEL 322:CDR 323:CPR 324:DIS 325:NCOR 326:NDEL 327:NDIS 331:MIN 332:MRA 333:MRC 334:NMIN 335:RCC " +
		"340:DOT 341:INR 342:CLD 343:REF 344:NPOR 345:POR 346:NDOT 347:NINR 348:NCLD 349:NREF 350:MFD 351:COM 352:LPM 353:EAA " +
		"354:EOF 355:LSB 356:LMT 357:LQI 360:AOC 361:CPF 362:ECD 363:RRC 372:SIM 373:RPS " + common,
	10: "1:LEN 2:IDC 3:IMT 4:SRC 5:PHD 6:HLL 7:VLL 8:SLC 9:THPS 10:TVPS 11:CGA 12:CSP 13:SAP 14:FIP 15:FPFI 16:SHPS 17:SVPS " +
		"18:DIST 19:LAF 20:POS 21:POA 22:PXS 23:PAS 24:SQS 25:SPA 26:SXS 27:SEC 28:SHC 29:FFP 30:DMM 31:TMC 32:3DF 33:FEC " +
		"38:COM 39:T10 40:SMT 41:SMS 42:SMD 43:COL 44:ITX 45:OCC 46:SUB 47:CON 48:PID 49:CID 50:VID 51:RSP " + common,
	13: "1:LEN 2:IDC 3:IMP 4:SRC 5:LCD 6:HLL 7:VLL 8:SLC 9:THPS 10:TVPS 11:CGA 12:BPX 13:FGP 14:SPD 15:PPC 16:SHPS 17:SVPS " +
		"18:RSP 19:REM 20:COM 24:LQM " + common,
	14: "1:LEN 2:IDC 3:IMP 4:SRC 5:FCD 6:HLL 7:VLL 8:SLC 9:THPS 10:TVPS 11:CGA 12:BPX 13:FGP 14:PPD 15:PPC 16:SHPS 17:SVPS " +
		"18:AMP 20:COM 21:SEG 22:NQM 23:SQM 24:FQM 25:ASEG 26:SCF 27:SIF 30:DMM 31:FAP " + common,
	15: "1:LEN 2:IDC 3:IMP 4:SRC 5:PCD 6:HLL 7:VLL 8:SLC 9:THPS 10:TVPS 11:CGA 12:BPX 13:FGP 16:SHPS 17:SVPS 18:AMP 20:COM " +
		"21:SEG 24:PQM 30:DMM " + common,
	16: "1:LEN 2:IDC 3:UDI 4:SRC 5:UTD 6:HLL 7:VLL 8:SLC 9:THPS 10:TVPS 11:CGA 12:BPX 13:CSP 16:SHPS 17:SVPS 20:COM 24:UQS " + common,
	17: "1:LEN 2:IDC 3:ELR 4:SRC 5:ICD 6:HLL 7:VLL 8:SLC 9:THPS 10:TVPS 11:CGA 12:BPX 13:CSP 14:RAE 15:RAU 16:IPC 17:DUI " +
		"19:MMS 20:ECL 21:COM 22:SHPS 23:SVPS 24:IQS 25:EAS 26:IRD 27:SSV 28:DME 30:DMM 31:IAP 32:ISF 33:IPB 34:ISB 35:UEB " +
		"36:LEB 37:NEO 40:RAN 41:GAZ " + common,
	18: "1:LEN 2:IDC 3:DLS 4:SRC 5:NAL 6:SDI 7:COPR 8:VRS 9:PED 10:STY 11:STI 12:SCM 13:SCD 14:PSD 15:DPD 16:STR 17:DMD " +
		"18:UDP 19:EPD 20:DGD 21:GAP 22:COM " + common,
	20: "1:LEN 2:IDC 3:CAR 4:SRC 5:SRD 6:HLL 7:VLL 8:SLC 9:THPS 10:TVPS 11:CGA 12:BPX 13:CSP 14:AQS 15:SFT 16:SEG 17:SHPS " +
		"18:SVPS 19:TIX 20:COM 21:SRN 22:ICDR " + common,
	99: "1:LEN 2:IDC 4:SRC 5:BCD 100:HDV 101:BTY 102:BDQ 103:BFO 104:BFT 902:ANN 903:DUI 904:MMS 992:T2C 993:SAN 994:EFR 995:ASC 996:HAS 997:SOR 998:GEO 999:BDB",
}

// common are the fields 902-999 shared by the image records of 1-2011.
const common = "902:ANN 903:DUI 904:MMS 992:T2C 993:SAN 994:EFR 995:ASC 996:HAS 997:SOR 998:GEO 999:DATA"

// type2EBTS are the FBI EBTS Type-2 mnemonics; type2INTI those of
// INTERPOL's INT-I, whose Type-2 numbering differs.
const (
	type2EBTS = "1:LEN 2:IDC 3:FFN 5:RET 6:ATN 7:SCO 9:OCA 10:CIN 11:CIX 12:LCN 13:LCX 14:FBI 15:SID 16:SOC 17:MNU 18:NAM " +
		"19:AKA 20:POB 21:CTZ 22:DOB 23:AGR 24:SEX 25:RAC 26:SMT 27:HGT 28:HTR 29:WGT 30:WTR 31:EYE 32:HAI 33:FPC 34:PAT " +
		"35:PPA 36:PHT 37:RFP 38:DPR 39:EAD 40:OCP 41:RES 42:MIL 43:TSR 44:GEO 45:DOA 46:DOS 47:ASL 48:CSR 49:EMA 51:CSL " +
		"53:OFC 54:SSD 55:SLE 56:ICO 57:FNR 59:SRF 60:MSG 61:CST 62:IMT 64:CAN 65:RSR 67:IMA 69:ETC 70:RAP 71:ACN 72:FIU " +
		"73:CRI 74:FGP 75:ERS 76:PRI 77:CFS 78:PEN 79:NCR 80:EXP 83:ULF 84:AMP 85:CRN 86:SCNA 87:TAA 88:NOT 89:MSC 91:RCD1 " +
		"92:RCD2 98:NDR"
	type2INTI = "1:LEN 2:IDC 4:DAR 5:DLU 7:CNO 8:SQN 9:MID 10:CRN 11:ORN 12:MN1 13:MN2 14:MN3 15:MN4 16:MN5 19:DPR 20:TOF 21:RFP 22:POA 23:OBU " +
		"30:NAM 34:AKA 35:DOB 36:DBR 37:POB 38:NAT 39:SEX 54:OTY 55:DOO 56:DOR 63:INF 64:RLS 74:ERM 75:FFN 76:MMN 77:LMP " +
		"90:IRN 91:NPI 92:EXP 93:LID 94:RDM 95:CRF 96:COT"
)

var mnemonics = func() map[int]map[int]string {
	m := make(map[int]map[int]string)
	for typ, s := range mnemonicTables {
		m[typ] = parseMnemonics(s)
	}
	m[2] = parseMnemonics(type2EBTS)
	m[-2] = parseMnemonics(type2INTI)
	return m
}()

func parseMnemonics(s string) map[int]string {
	t := make(map[int]string)
	for _, p := range strings.Fields(s) {
		n, name, _ := strings.Cut(p, ":")
		i, err := strconv.Atoi(n)
		if err != nil {
			panic("ansinist: bad mnemonic table entry " + p)
		}
		t[i] = name
	}
	return t
}

// Mnemonic returns the standard's short name of field number in a record
// of type recordType (e.g. 14, 13 -> "FGP"), or "" when it has none. For
// Type-2, whose fields are defined by the domain, the names are EBTS's
// unless domain (field 1.013) starts with "INT-I", INTERPOL's profile.
func Mnemonic(recordType, number int, domain string) string {
	if recordType == 2 && strings.HasPrefix(strings.ToUpper(domain), "INT-I") {
		return mnemonics[-2][number]
	}
	return mnemonics[recordType][number]
}

// RecordName returns a short description of a record type.
func RecordName(recordType int) string {
	switch recordType {
	case 1:
		return "transaction information"
	case 2:
		return "user-defined descriptive text"
	case 3:
		return "low-resolution grayscale fingerprint (legacy)"
	case 4:
		return "high-resolution grayscale fingerprint"
	case 5:
		return "low-resolution binary fingerprint (legacy)"
	case 6:
		return "high-resolution binary fingerprint (legacy)"
	case 7:
		return "user-defined image"
	case 8:
		return "signature image"
	case 9:
		return "minutiae data"
	case 10:
		return "face, other body part, or SMT image"
	case 11:
		return "forensic and investigatory voice"
	case 12:
		return "forensic dental and oral"
	case 13:
		return "variable-resolution latent friction ridge image"
	case 14:
		return "variable-resolution fingerprint image"
	case 15:
		return "variable-resolution palmprint image"
	case 16:
		return "user-defined variable-resolution testing image"
	case 17:
		return "iris image"
	case 18:
		return "DNA"
	case 19:
		return "variable-resolution plantar image"
	case 20:
		return "source representation"
	case 21:
		return "associated context"
	case 22:
		return "non-photographic imagery"
	case 98:
		return "information assurance"
	case 99:
		return "CBEFF biometric data"
	}
	return "unknown"
}
