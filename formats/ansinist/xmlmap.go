package ansinist

import _ "embed" // ExtensionSchema

// The field <-> element mapping of the NIEM XML encoding (ANSI/NIST-ITL
// 2-2008 and 1-2011 Part 2, Annex C of 1-2011). Paths are relative to the
// record element; "b:" is the biometric namespace (NIEM ansi-nist 2.0 in
// 2-2008, NIEM biometrics 1.0 in 2011), "nc:" NIEM core, "itl:" the
// standard's own. "$C" stands for the record's image container element,
// which differs by record type and version (see container).

// Namespaces of the two XML editions and of ebsp's extension elements.
const (
	nsITL2008  = "http://biometrics.nist.gov/standard/2-2008"
	nsITL2011  = "http://biometrics.nist.gov/standard/2011"
	nsANSI2008 = "http://niem.gov/niem/ansi-nist/2.0"
	nsBiom2011 = "http://niem.gov/niem/biometrics/1.0"
	nsNC       = "http://niem.gov/niem/niem-core/2.0"
	nsS        = "http://niem.gov/niem/structures/2.0"
	// NSExtension holds the elements ebsp writes for fields the standard's
	// XML mapping (as implemented here) does not cover, so that no field is
	// lost: <ebsp:Field tag="14.022"> with Subfield/Item children or Data.
	NSExtension = "https://github.com/ebsp/ebsp/formats/ansinist/extension"
)

// ExtensionSchema is the XML schema of NSExtension (extension.xsd): it
// declares ebsp's elements as substitutes of the abstract elements the
// 1-2011 schema leaves for user-defined content, so that a validator given
// itl.xsd, the NIEM subset and this file accepts them.
//
//go:embed extension.xsd
var ExtensionSchema []byte

// xmlMap maps one field. rep, when set, is repeated once per subfield
// under base; when empty the field has a single subfield whose items hang
// under base. items are item paths under the subfield's element in
// document order, each "path" or "N=path" (item N) with an optional
// "@conv": date (YYYYMMDD <-> YYYY-MM-DD), gmt (YYYYMMDDhhmmssZ <->
// xs:dateTime), bool (1/0 <-> true/false), fmt (S/U <-> true/false), b64
// (the field's binary data, base64).
type xmlMap struct {
	num   int
	base  string
	rep   string
	items []string
}

// recordElements names the record elements (Annex C table C.2).
var recordElements = map[int]string{
	1: "PackageInformationRecord", 2: "PackageDescriptiveTextRecord",
	3: "PackageLowResolutionGrayscaleImageRecord", 4: "PackageHighResolutionGrayscaleImageRecord",
	5: "PackageLowResolutionBinaryImageRecord", 6: "PackageHighResolutionBinaryImageRecord",
	7: "PackageUserDefinedImageRecord", 8: "PackageSignatureImageRecord", 9: "PackageMinutiaeRecord",
	10: "PackageFacialAndSMTImageRecord", 13: "PackageLatentImageRecord", 14: "PackageFingerprintImageRecord",
	15: "PackagePalmprintImageRecord", 16: "PackageUserDefinedTestingImageRecord", 17: "PackageIrisImageRecord",
	18: "PackageDNARecord", 20: "PackageSourceRepresentationRecord", 21: "PackageAssociatedContextRecord",
	99: "PackageCBEFFBiometricDataRecord",
}

// containers lists, per record type, the image container elements a
// reader accepts; the writer uses the first for 2-2008 and the last for
// 2011, except Type-10, whose container depends on IMT.
var containers = map[int][]string{
	3: {"b:FingerprintImage"}, 4: {"b:FingerprintImage"}, 5: {"b:FingerprintImage"}, 6: {"b:FingerprintImage"},
	8:  {"b:SignatureImage"},
	10: {"itl:FaceImage", "b:FaceImage", "b:PhysicalFeatureImage"},
	13: {"itl:FingerprintImage", "itl:PalmprintImage", "b:FingerImpressionImage"},
	14: {"itl:FingerprintImage", "b:FingerImpressionImage"},
	15: {"b:PalmprintImage"}, 16: {"itl:TestImage", "b:TestImage"}, 17: {"itl:IrisImage", "b:IrisImage"},
	20: {"b:SourceImage"}, 99: {"b:CBEFFImage"},
}

// binaryImage is Types 3 to 6 (1-2007 sections 11 to 14 / 1-2011 8.4).
var binaryImage = []xmlMap{
	{9, "$C", "", []string{"nc:BinaryBase64Object@b64"}},
	{5, "$C/b:ImageCaptureDetail", "", []string{"b:CaptureResolutionCode"}},
	{8, "$C", "", []string{"b:ImageCompressionAlgorithmCode"}},
	{6, "$C", "", []string{"b:ImageHorizontalLineLengthPixelQuantity"}},
	{7, "$C", "", []string{"b:ImageVerticalLineLengthPixelQuantity"}},
	{4, "$C/b:FingerprintImagePosition", "b:FingerPositionCode", []string{"."}},
	{3, "$C", "", []string{"b:FingerprintImageImpressionCaptureCategoryCode"}},
}

// imageCommon are the fields Types 10 and 13 to 17 number alike, in the
// element order of the schema; per-type fields follow.
func imageCommon(typ int) []xmlMap {
	shps, svps, com, dmm := 16, 17, 20, 30
	switch typ {
	case 10:
		com = 38
	case 17:
		shps, svps, com = 22, 23, 21
	case 20:
		shps, svps = 17, 18
	}
	m := []xmlMap{
		{999, "$C", "", []string{"nc:BinaryBase64Object@b64"}},
		{12, "$C", "", []string{"b:ImageBitsPerPixelQuantity"}},
		{5, "$C/b:ImageCaptureDetail", "", []string{"b:CaptureDate/nc:Date@date"}},
		{shps, "$C/b:ImageCaptureDetail", "", []string{"b:CaptureHorizontalPixelDensityValue"}},
		{4, "$C/b:ImageCaptureDetail", "", []string{"b:CaptureOrganization/nc:OrganizationIdentification/nc:IdentificationID"}},
		{993, "$C/b:ImageCaptureDetail", "", []string{"b:CaptureOrganization/nc:OrganizationName"}}, // SAN
		{svps, "$C/b:ImageCaptureDetail", "", []string{"b:CaptureVerticalPixelDensityValue"}},
		{dmm, "$C/b:ImageCaptureDetail", "", []string{"b:CaptureDeviceMonitoringModeCode"}},
		{13, "$C", "", []string{"b:ImageColorSpaceCode"}},
		{com, "$C", "", []string{"b:ImageCommentText"}},
		{11, "$C", "", []string{"b:ImageCompressionAlgorithmText"}},
		{6, "$C", "", []string{"b:ImageHorizontalLineLengthPixelQuantity"}},
		{9, "$C", "", []string{"b:ImageHorizontalPixelDensityValue"}},
		// Subject/image quality, Types 10, 16 and 17 only (set below).
		{0, "$C", "b:ImageQuality", []string{"2=b:QualityAlgorithmProductIdentification/nc:IdentificationID", "0=b:QualityValue", "1=b:QualityMeasureVendorIdentification/nc:IdentificationID"}},
		{8, "$C", "", []string{"b:ImageScaleUnitsCode"}},
		{0, "$C", "", []string{"b:ImageCategoryCode"}}, // 10.003 IMT, Type-10 only
		{7, "$C", "", []string{"b:ImageVerticalLineLengthPixelQuantity"}},
		{10, "$C", "", []string{"b:ImageVerticalPixelDensityValue"}},
	}
	switch typ {
	case 10:
		// Type-10 has CSP at 12 and no BPX; SAP and pose at 13, 20, 21.
		m[1] = xmlMap{}
		m[8].num = 12
		m[15].num = 3
		m = append(m, xmlMap{13, "$C", "", []string{"b:FaceImageAcquisitionProfileCode"}},
			xmlMap{21, "$C", "", []string{"b:FaceImagePoseOffsetAngleMeasure"}},
			xmlMap{20, "$C", "", []string{"b:FaceImageSubjectPoseCode"}},
			xmlMap{25, "$C", "b:FaceImage3DPoseAngle", []string{"1=b:PosePitchAngleMeasure", "4=b:PosePitchUncertaintyValue", "2=b:PoseRollAngleMeasure",
				"5=b:PoseRollUncertaintyValue", "0=b:PoseYawAngleMeasure", "3=b:PoseYawUncertaintyValue"}},
			xmlMap{26, "$C", "b:FaceImageAttribute", []string{"b:FaceImageAttributeCode", "b:FaceImageAttributeText"}},
			xmlMap{22, "$C", "b:FaceImageDescriptionCode", []string{"."}},
			xmlMap{27, "$C", "", []string{"b:FaceImageEyeColorAttributeCode"}},
			xmlMap{29, "$C", "b:FaceImageFeaturePoint", []string{"2=b:FeaturePointHorizontalCoordinateValue", "1=b:FeaturePointIdentification/nc:IdentificationID",
				"0=b:FeaturePointCategoryCode", "3=b:FeaturePointVerticalCoordinateValue"}},
			xmlMap{28, "$C", "", []string{"b:FaceImageHairColorAttributeCode", "+b:FaceImageHairColorAttributeCode"}},
			xmlMap{23, "$C", "itl:FaceImageAcquisitionSource|b:FaceImageAcquisitionSource", []string{"b:CaptureSourceCode", "itl:CaptureSourceDescriptionText|b:CaptureSourceDescriptionText"}},
			xmlMap{42, "$C", "b:PhysicalFeatureDescriptionDetail", []string{"0=b:PhysicalFeatureCategoryCode", "1=b:PhysicalFeatureClassCode", "3=b:PhysicalFeatureDescriptionText", "2=b:PhysicalFeatureSubClassCode"}},
			xmlMap{40, "$C", "b:PhysicalFeatureNCICCode", []string{"."}},
			xmlMap{41, "$C", "b:PhysicalFeatureSize", []string{"0=b:PhysicalFeatureHeightMeasure", "1=b:PhysicalFeatureWidthMeasure"}},
		)
	case 13, 14, 15:
		m[8] = xmlMap{} // field 13 is the position, not a colour space
		pos := "b:FingerPositionCode"
		quality := "itl:FingerprintImageQuality|b:FingerprintImageQuality"
		q := 24
		if typ == 15 {
			pos, quality = "b:PalmPositionCode", "itl:PalmprintImageQuality|b:PalmprintImageQuality"
		}
		m = append(m, xmlMap{3, "$C", "", []string{"b:FingerprintImageImpressionCaptureCategoryCode"}},
			xmlMap{13, "$C", pos, []string{"."}})
		if typ == 14 {
			m = append(m,
				xmlMap{18, "$C", "itl:FingerprintImageFingerMissing|b:FingerprintImageFingerMissing", []string{"0=b:FingerPositionCode", "1=itl:FingerMissingCode|b:FingerMissingCode"}},
				xmlMap{21, "$C", "itl:FingerprintImageSegmentPositionSquare|b:FingerprintImageSegmentPositionSquare", []string{"0=b:FingerPositionCode",
					"4=b:SegmentBottomVerticalCoordinateValue", "1=b:SegmentLeftHorizontalCoordinateValue", "2=b:SegmentRightHorizontalCoordinateValue", "3=b:SegmentTopVerticalCoordinateValue"}},
				xmlMap{22, "$C", "b:FingerprintImageNISTQuality", []string{"0=b:FingerPositionCode", "1=b:NISTQualityMeasure"}},
				xmlMap{23, "$C", "b:FingerprintImageSegmentationQuality", []string{"0=b:FingerPositionCode", "3=b:QualityAlgorithmProductIdentification/nc:IdentificationID",
					"2=b:QualityAlgorithmVendorIdentification/nc:IdentificationID", "1=b:QualityValue"}})
		}
		m = append(m, xmlMap{q, "$C", quality, []string{"0=" + pos, "3=b:QualityAlgorithmProductIdentification/nc:IdentificationID",
			"2=b:QualityAlgorithmVendorIdentification/nc:IdentificationID", "1=b:QualityValue"}})
		if typ == 13 {
			// A latent palm (2-2008 itl:PalmprintImage) names its position
			// and quality as a palm's; read either.
			m = append(m, xmlMap{13, "$C", "b:PalmPositionCode", []string{"."}},
				xmlMap{24, "$C", "itl:PalmprintImageQuality|b:PalmprintImageQuality", []string{"0=b:PalmPositionCode", "3=b:QualityAlgorithmProductIdentification/nc:IdentificationID",
					"2=b:QualityAlgorithmVendorIdentification/nc:IdentificationID", "1=b:QualityValue"}})
		}
	}
	if typ == 10 || typ == 16 || typ == 17 {
		m[13].num = 24
	}
	switch typ {
	case 16:
		m = append(m, xmlMap{3, "$C", "", []string{"nc:BinaryDescriptionText|b:BinaryDescriptionText"}})
	case 17:
		m = append(m, xmlMap{3, "$C", "", []string{"b:IrisEyePositionCode"}},
			xmlMap{14, "$C", "", []string{"b:IrisEyeRotationAngleMeasure"}},
			xmlMap{15, "$C", "", []string{"b:IrisEyeRotationUncertaintyValueText"}},
			xmlMap{16, "$C/b:IrisImageCapture", "", []string{"0=b:IrisImageHorizontalOrientationCode", "2=b:IrisImageScanCategoryCode", "1=b:IrisImageVerticalOrientationCode"}},
			xmlMap{17, "$C/b:IrisImageCapture", "", []string{"b:CaptureDeviceIdentification/nc:IdentificationID"}},
			xmlMap{18, "$C/b:IrisImageCapture", "", []string{"b:CaptureDeviceGlobalIdentification/nc:IdentificationID"}},
			xmlMap{19, "$C/b:IrisImageCapture", "", []string{"b:CaptureDeviceMakeText", "b:CaptureDeviceModelText", "b:CaptureDeviceSerialNumberText"}},
			xmlMap{20, "$C", "", []string{"b:IrisEyeColorAttributeCode"}},
			xmlMap{25, "$C", "", []string{"b:IrisImageAcquisitionLightingSpectrumValue"}},
			xmlMap{26, "$C", "", []string{"itl:IrisDiameterPixelQuantity|b:IrisDiameterPixelQuantity"}},
		)
	}
	out := m[:0]
	for _, x := range m {
		if x.num != 0 {
			out = append(out, x)
		}
	}
	return out
}

// xmlMaps returns the mapped fields of a record type, in document order.
// VER and CNT (Type-1) and the minutiae of the standard Type-9 block
// (9.008, 9.009, 9.012) are handled by code.
func xmlMaps(typ int) []xmlMap {
	switch typ {
	case 1:
		return []xmlMap{
			{5, "b:Transaction", "", []string{"b:TransactionDate/nc:Date@date"}},
			{7, "b:Transaction", "", []string{"b:TransactionDestinationOrganization/nc:OrganizationIdentification/nc:IdentificationID"}},
			{8, "b:Transaction", "", []string{"b:TransactionOriginatingOrganization/nc:OrganizationIdentification/nc:IdentificationID"}},
			// ANM: DAN, OAN; INT-I adds the countries DAC, OAC.
			{17, "b:Transaction", "", []string{"b:TransactionDestinationOrganization/nc:OrganizationName", "b:TransactionOriginatingOrganization/nc:OrganizationName",
				"b:TransactionDestinationOrganization/b:LocationCountryISO3166Alpha3Code", "b:TransactionOriginatingOrganization/b:LocationCountryISO3166Alpha3Code"}},
			{14, "b:Transaction", "", []string{"b:TransactionUTCDate/nc:DateTime@gmt"}},
			{9, "b:Transaction", "", []string{"b:TransactionControlIdentification/nc:IdentificationID"}},
			{10, "b:Transaction", "", []string{"b:TransactionControlReferenceIdentification/nc:IdentificationID"}},
			{13, "b:Transaction", "b:TransactionDomain", []string{"1=b:DomainVersionNumberIdentification/nc:IdentificationID", "0=b:OrganizationName|b:TransactionDomainName"}},
			{11, "b:Transaction/b:TransactionImageResolutionDetails", "", []string{"b:NativeScanningResolutionValue"}},
			{12, "b:Transaction/b:TransactionImageResolutionDetails", "", []string{"b:NominalTransmittingResolutionValue"}},
			{6, "b:Transaction", "", []string{"b:TransactionPriorityValue"}},
			{4, "b:Transaction", "", []string{"b:TransactionCategoryCode"}},
			{15, "b:Transaction", "b:TransactionCharacterSetDirectory", []string{"1=b:CharacterSetCommonNameCode", "0=b:CharacterSetIndexCode", "2=b:CharacterSetVersionIdentification/nc:IdentificationID"}},
			{16, "b:Transaction", "b:TransactionApplicationProfile", []string{"b:ApplicationProfileOrganizationName", "b:ApplicationProfileName", "b:ApplicationProfileVersionIdentification/nc:IdentificationID"}},
			{18, "b:Transaction", "", []string{"b:TransactionGeographicNameSetCode"}},
		}
	case 3, 4, 5, 6:
		return binaryImage
	case 7:
		return []xmlMap{{3, "", "", []string{"b:RecordImage@b64"}}}
	case 8:
		return []xmlMap{
			{8, "$C", "", []string{"nc:BinaryBase64Object@b64"}},
			{5, "$C/b:ImageCaptureDetail", "", []string{"b:CaptureResolutionCode"}},
			{6, "$C", "", []string{"b:ImageHorizontalLineLengthPixelQuantity"}},
			{7, "$C", "", []string{"b:ImageVerticalLineLengthPixelQuantity"}},
			{4, "$C", "", []string{"b:SignatureRepresentationCode"}},
			{3, "$C", "", []string{"b:SignatureCategoryCode"}},
		}
	case 9:
		std := "itl:Minutiae|b:RecordMinutiae"
		nist := std + "/itl:MinutiaeNISTStandard|b:MinutiaeNISTStandard"
		m1 := "b:INCITSMinutiae"
		efs := "b:ExtendedFeatureSetMinutiae"
		return []xmlMap{
			{3, "", "", []string{"b:MinutiaeImpressionCaptureCategoryCode"}},
			{4, "", "", []string{"b:MinutiaeFormatNISTStandardIndicator@fmt"}},
			// 9.012 is written here by code (MinutiaDetail elements).
			{10, nist, "", []string{"b:MinutiaeQuantity"}},
			{5, nist, "", []string{"b:MinutiaeReadingSystem/b:ReadingSystemName", "b:MinutiaeReadingSystem/b:ReadingSystemCodingMethodCode",
				"b:MinutiaeReadingSystem/b:ReadingSystemSubsystemIdentification/nc:IdentificationID"}},
			{11, nist, "", []string{"b:MinutiaeRidgeCountIndicator@bool"}},
			// 9.008 and 9.009 are written here by code.
			{7, std, "itl:MinutiaeFingerPatternDetail|b:MinutiaeFingerPatternDetail", []string{"itl:FingerPatternCodeSourceCode|b:FingerPatternCodeSourceCode", "b:FingerPatternCode"}},
			// 9.006 is written here by code (finger or palm positions).
			{126, m1, "", []string{"b:CBEFFFormatOwnerIdentification/nc:IdentificationID", "b:CBEFFFormatCategoryIdentification/nc:IdentificationID", "b:CBEFFProductIdentification/nc:IdentificationID"}},
			{127, m1 + "/b:ImageCaptureDetail", "", []string{"b:CaptureDeviceCertificationCode", "b:CaptureDeviceIdentification/nc:IdentificationID"}},
			{128, m1 + "/b:FingerImpressionImage", "", []string{"b:ImageHorizontalLineLengthPixelQuantity"}},
			{131, m1 + "/b:FingerImpressionImage", "", []string{"b:ImageHorizontalPixelDensityValue"}},
			{130, m1 + "/b:FingerImpressionImage", "", []string{"b:ImageScaleUnitsCode"}},
			{129, m1 + "/b:FingerImpressionImage", "", []string{"b:ImageVerticalLineLengthPixelQuantity"}},
			{132, m1 + "/b:FingerImpressionImage", "", []string{"b:ImageVerticalPixelDensityValue"}},
			{134, m1 + "/b:FingerImpressionImage", "", []string{"b:FingerPositionCode"}},
			{133, m1, "", []string{"b:FingerViewNumeric"}},
			{135, m1, "b:MinutiaeQuality", []string{"2=b:QualityAlgorithmProductIdentification/nc:IdentificationID", "0=b:QualityValue", "1=b:QualityAlgorithmVendorIdentification/nc:IdentificationID"}},
			{136, m1, "", []string{"b:MinutiaeQuantity"}},
			{137, m1, "b:INCITSMinutia", []string{"b:MinutiaIdentification/nc:IdentificationID", "b:INCITSMinutiaLocation/b:PositionHorizontalCoordinateValue",
				"b:INCITSMinutiaLocation/b:PositionVerticalCoordinateValue", "b:INCITSMinutiaLocation/b:ImageLocationThetaAngleMeasure", "b:INCITSMinutiaCategoryCode", "b:MinutiaQualityValue"}},
			{139, m1, "b:FingerprintPatternCoreLocation", []string{"b:PositionHorizontalCoordinateValue", "b:PositionVerticalCoordinateValue", "b:ImageLocationThetaAngleMeasure"}},
			{140, m1, "b:FingerprintPatternDeltaLocation", []string{"b:PositionHorizontalCoordinateValue", "b:PositionVerticalCoordinateValue", "b:ImageLocationThetaAngleMeasure"}},
			{303, efs, "b:ExtendedFeatureSetProfileIdentification", []string{"nc:IdentificationID"}},
			{300, efs, "b:FrictionRidgeImageRegionOfInterest", []string{"b:ImageSegmentWidthMeasure", "b:ImageSegmentHeightMeasure", "b:ImageSegmentHorizontalOffsetMeasure",
				"b:ImageSegmentVerticalOffsetMeasure", "b:ImageSegmentPolygon@poly"}},
			{301, efs, "b:FingerprintImageFingerprintOrientation", []string{"b:OrientationAngleValue", "b:OrientationAngleUncertaintyValue"}},
			{302, efs, "b:MinutiaeFingerLocation", []string{"0=b:FingerPositionCode", "3=b:ImageSegmentPolygon@poly"}},
			{307, efs, "b:FingerprintPatternClassification", []string{"b:FingerprintPatternGeneralClassCode", "b:FingerprintPatternSubClassCode", "b:FingerprintPatternWhorlDeltaRelationshipCode"}},
			// 9.314 TRV, 9.315 PLR, 9.326 NDEL, 9.332 MRA, 9.333 MRC, 9.352
			// LPM, 9.355 LSB: the schema's order puts each after the field
			// before it here.
			{314, efs, "", []string{"b:FrictionRidgeImageTonalReversalCode"}},
			{315, efs, "", []string{"b:FrictionRidgeImageLateralReversalCode"}},
			{320, efs, "b:MinutiaeCore", []string{"b:ImageLocationHorizontalCoordinateMeasure", "b:ImageLocationVerticalCoordinateMeasure", "b:MinutiaeCoreDirectionMeasure"}},
			{326, efs, "", []string{"b:MinutiaeNoDeltasPresentIndicator@bool"}},
			{321, efs, "b:MinutiaeDelta", []string{"b:ImageLocationHorizontalCoordinateMeasure", "b:ImageLocationVerticalCoordinateMeasure",
				"b:MinutiaeDeltaDirectionUpMeasure", "b:MinutiaeDeltaDirectionLeftMeasure", "b:MinutiaeDeltaDirectionRightMeasure"}},
			{331, efs, "b:EFSMinutia", []string{"b:ImageLocationHorizontalCoordinateMeasure", "b:ImageLocationVerticalCoordinateMeasure", "b:ImageLocationThetaAngleMeasure",
				"b:EFSMinutiaCategoryCode", "b:ImageLocationUncertaintyRadiusMeasure", "b:MinutiaDirectionUncertaintyValue"}},
			{332, efs, "", []string{"b:EFSRidgeCountAlgorithmCode"}},
			{333, efs, "b:EFSRidgeCountItem", []string{"b:MinutiaIdentification/nc:IdentificationID", "b:MinutiaReferenceIdentification/nc:IdentificationID",
				"b:RidgeCountValue", "b:MinutiaeRidgeCountOctantNumeric", "b:MinutiaeRidgeCountResidualCode"}},
			{352, efs, "b:LatentProcessingCategoryCode", []string{"."}},
			{355, efs, "b:MinutiaeLatentSubstrate", []string{"b:MinutiaeLatentSubstrateCategoryCode", "b:MinutiaeLatentSubstrateDescriptionText"}},
		}
	case 10, 13, 14, 15, 16, 17:
		return imageCommon(typ)
	case 20:
		return append([]xmlMap{
			{3, "", "", []string{"b:SourceRecordCardinalityCode"}},
			{14, "", "b:SourceAcquisition", []string{"b:AcquisitionSourceCode"}},
			{15, "", "b:SourceFileFormat", []string{"b:SourceFileCategoryText", "b:SourceFileDecodingInstructionsText"}},
			{21, "", "b:SourceIdentification", []string{"nc:IdentificationID"}},
		}, imageCommon(20)...)
	case 99:
		return []xmlMap{
			{999, "$C", "", []string{"nc:BinaryBase64Object@b64"}},
			{5, "$C/b:ImageCaptureDetail", "", []string{"b:CaptureDate/nc:DateTime@gmt"}},
			{4, "$C/b:ImageCaptureDetail", "", []string{"b:CaptureOrganization/nc:OrganizationIdentification/nc:IdentificationID"}},
			{102, "$C", "b:ImageQuality", []string{"2=b:QualityAlgorithmProductIdentification/nc:IdentificationID", "0=b:QualityValue", "1=b:QualityMeasureVendorIdentification/nc:IdentificationID"}},
			{103, "$C", "", []string{"b:CBEFFFormatOwnerIdentification/nc:IdentificationID"}},
			{104, "$C", "", []string{"b:CBEFFFormatCategoryIdentification/nc:IdentificationID"}},
			{100, "$C", "", []string{"b:CBEFFVersionIdentification/nc:IdentificationID"}},
			{101, "$C", "", []string{"b:CBEFFCategoryCode"}},
		}
	}
	return nil
}
