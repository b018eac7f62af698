package ansinist

// schema2011 is the record level of the ANSI/NIST-ITL 1-2011 NIEM XML
// schema, transcribed from itl.xsd (version 2015, NIST, as INTERPOL's
// INT-I repository holds it): the package, the record types ebsp writes and
// the Type-9 legacy minutiae elements itl.xsd itself defines. The NIEM
// biometrics 1.0 subset that defines the biometric elements inside a record
// (images, minutiae blocks) was not available, so their content is not
// checked. An xsd:choice is written as one particle named "choice:..."
// whose alternatives are its substitution group members.
var schema2011 = withExtensions(&xsdSchema{
	root:            "itl:NISTBiometricInformationExchangePackage",
	rootType:        "itl:NISTBiometricInformationExchangePackageType",
	prefixes:        prefixesFor(nsITL2011, nsBiom2011),
	representations: true,
	abstract: map[string]bool{"itl:PackageDataRecord": true, "itl:UserDefinedFields": true,
		"itl:DomainDefinedDescriptiveDetail": true, "itl:OtherDescriptiveDetail": true},
	types: map[string][]xsdParticle{
		"itl:NISTBiometricInformationExchangePackageType": {{"itl:PackageInformationRecord", 1, 1}, {"itl:PackageDescriptiveTextRecord", 0, -1}, {"itl:PackageDataRecord", 0, -1}},
		"itl:PackageInformationRecordType":                {{"b:RecordCategoryCode", 1, 1}, {"b:Transaction", 1, 1}},
		"itl:PackageDescriptiveTextRecordType":            rec2011(nil, xsdParticle{"itl:UserDefinedDescriptiveDetail", 0, 1}),
		"itl:UserDefinedDescriptiveDetailType":            {{"itl:DomainDefinedDescriptiveDetail", 1, 1}, {"itl:OtherDescriptiveDetail", 0, -1}},
		"itl:PackageFingerprintImageRecordType":           rec2011(nil, xsdParticle{"b:FingerprintImage", 1, 1}),
		"itl:PackageUserDefinedImageRecordType":           rec2011(nil, xsdParticle{"b:BiometricImage", 0, 1}),
		"itl:PackageSignatureImageRecordType":             rec2011(nil, xsdParticle{"b:SignatureImage", 1, 1}),
		"itl:PackageMinutiaeRecordType": rec2011(extended2011, xsdParticle{"b:MinutiaeImpressionCaptureCategory", 1, 1},
			xsdParticle{"b:MinutiaeFormatNISTStandardIndicator", 1, 1}, xsdParticle{"b:MinutiaeUniversalLatentWorkstationAnnotationText", 0, -1},
			xsdParticle{"b:BiometricCaptureDetail", 0, 1}, xsdParticle{"b:RecordMinutiae", 1, -1}),
		"itl:PackageFacialAndSMTImageRecordType": rec2011(crossExtended2011, xsdParticle{"choice:Type10Image", 1, 1}),
		"itl:PackageLatentImageRecordType":       rec2011(extended2011, xsdParticle{"choice:Type13Image", 1, 1}),
		"itl:PackageFingerImpressionImageRecordType": rec2011(extended2011, xsdParticle{"b:FingerImpressionImage", 1, 1},
			xsdParticle{"b:SubjectExistentialDetails", 0, 1}),
		"itl:PackagePalmprintImageRecordType": rec2011(extended2011, xsdParticle{"b:PalmprintImage", 1, 1},
			xsdParticle{"b:FrictionRidgeImageSegmentPositionSquare", 0, 17}, xsdParticle{"b:SubjectExistentialDetails", 0, 1}),
		"itl:PackageTestImageRecordType": rec2011(extended2011, xsdParticle{"b:TestImage", 1, 1}),
		"itl:PackageIrisImageRecordType": rec2011(extended2011, xsdParticle{"b:IrisImage", 1, 1}),
		"itl:PackageDNARecordType":       rec2011(crossExtended2011, xsdParticle{"b:DNASample", 1, 1}),
		"itl:PackageSourceRepresentationRecordType": rec2011(extended2011, xsdParticle{"b:SourceRecordCardinalityCode", 1, 1},
			xsdParticle{"b:SourceAcquisition", 1, 9}, xsdParticle{"b:SourceFileFormat", 1, 1}, xsdParticle{"b:SourceCommentText", 0, 1},
			xsdParticle{"b:SourceIdentification", 1, 1}, xsdParticle{"choice:SourceExternalReference", 0, 1}, xsdParticle{"choice:SourceContent", 1, 1}),
		"itl:PackageCBEFFImageRecordType": rec2011(extended2011, xsdParticle{"b:CBEFFImage", 1, 1}),
		"itl:MinutiaeType": {{"itl:MinutiaeNISTStandard", 1, 1}, {"b:MinutiaeFingerCorePosition", 0, -1}, {"b:MinutiaeFingerDeltaPosition", 0, -1},
			{"itl:MinutiaeFingerPatternDetail", 0, -1}, {"b:MinutiaeFingerPositionCode", 0, -1}, {"b:MinutiaePalmPositionCode", 0, -1}},
		"itl:MinutiaeNISTStandardType": {{"itl:MinutiaDetail", 1, -1}, {"b:MinutiaeQuantity", 1, 1}, {"b:MinutiaeReadingSystem", 0, 1}, {"b:MinutiaeRidgeCountIndicator", 1, 1}},
	},
	elems: map[string]string{
		"itl:PackageInformationRecord":                  "itl:PackageInformationRecordType",
		"itl:PackageDescriptiveTextRecord":              "itl:PackageDescriptiveTextRecordType",
		"itl:UserDefinedDescriptiveDetail":              "itl:UserDefinedDescriptiveDetailType",
		"itl:PackageHighResolutionGrayscaleImageRecord": "itl:PackageFingerprintImageRecordType",
		"itl:PackageUserDefinedImageRecord":             "itl:PackageUserDefinedImageRecordType",
		"itl:PackageSignatureImageRecord":               "itl:PackageSignatureImageRecordType",
		"itl:PackageMinutiaeRecord":                     "itl:PackageMinutiaeRecordType",
		"itl:PackageFacialAndSMTImageRecord":            "itl:PackageFacialAndSMTImageRecordType",
		"itl:PackageLatentImageRecord":                  "itl:PackageLatentImageRecordType",
		"itl:PackageFingerprintImageRecord":             "itl:PackageFingerImpressionImageRecordType",
		"itl:PackagePalmprintImageRecord":               "itl:PackagePalmprintImageRecordType",
		"itl:PackageUserDefinedTestingImageRecord":      "itl:PackageTestImageRecordType",
		"itl:PackageIrisImageRecord":                    "itl:PackageIrisImageRecordType",
		"itl:PackageDNARecord":                          "itl:PackageDNARecordType",
		"itl:PackageSourceRepresentationRecord":         "itl:PackageSourceRepresentationRecordType",
		"itl:PackageCBEFFBiometricDataRecord":           "itl:PackageCBEFFImageRecordType",
		"itl:Minutiae":                                  "itl:MinutiaeType",
		"itl:MinutiaeNISTStandard":                      "itl:MinutiaeNISTStandardType",
	},
	subs: map[string][]string{
		"itl:PackageDataRecord": {"itl:PackageHighResolutionGrayscaleImageRecord", "itl:PackageUserDefinedImageRecord",
			"itl:PackageSignatureImageRecord", "itl:PackageMinutiaeRecord", "itl:PackageFacialAndSMTImageRecord",
			"itl:PackageLatentImageRecord", "itl:PackageFingerprintImageRecord", "itl:PackagePalmprintImageRecord",
			"itl:PackageUserDefinedTestingImageRecord", "itl:PackageIrisImageRecord", "itl:PackageDNARecord",
			"itl:PackageSourceRepresentationRecord", "itl:PackageCBEFFBiometricDataRecord"},
		// The deprecated itl: elements substitute their biom: successors.
		"b:FaceImage":             {"itl:FaceImage"},
		"b:FingerImpressionImage": {"itl:FingerprintImage"},
		"b:IrisImage":             {"itl:IrisImage"},
		// itl:Minutiae's documentation names ExtendedFeatureSetMinutiae and
		// INCITSMinutiae as the other RecordMinutiae.
		"b:RecordMinutiae":               {"itl:Minutiae", "b:ExtendedFeatureSetMinutiae", "b:INCITSMinutiae"},
		"choice:Type10Image":             {"b:FaceImage", "b:PhysicalFeatureImage"},
		"choice:Type13Image":             {"b:FingerImpressionImage", "b:PalmprintImage", "b:PlantarImage", "b:FrictionRidgeImage"},
		"choice:SourceExternalReference": {"b:SourceExternalFileReferenceText", "b:SourceExternalAnalogFileReferenceText", "b:SourceExternalDigitalImageReferenceText", "b:SourceExternalDigitalAudioReferenceText", "b:SourceExternalDigitalVideoReferenceText"},
		"choice:SourceContent":           {"b:SourceImage", "b:SourceAudio", "b:SourceVideo"},
	},
})

// The record bases of itl.xsd: PackageDataRecordType, its Extended and
// CrossReferenceExtended derivations.
var (
	base2011          = []xsdParticle{{"b:RecordCategoryCode", 1, 1}, {"b:ImageReferenceIdentification", 1, 1}, {"itl:UserDefinedFields", 0, -1}}
	extendedTail2011  = []xsdParticle{{"b:ProcessAnnotation", 0, -1}, {"b:AssociatedContext", 0, 255}, {"b:ImageHashValue", 0, 1}, {"b:SourceRepresentation", 0, 255}}
	extended2011      = append(append([]xsdParticle{}, base2011...), extendedTail2011...)
	crossExtended2011 = append(append(append([]xsdParticle{}, base2011...), xsdParticle{"b:Type2CrossReferenceIdentification", 0, 1}), extendedTail2011...)
)

// rec2011 is a record type's content: its base (PackageDataRecordType when
// nil) and its own particles.
func rec2011(base []xsdParticle, own ...xsdParticle) []xsdParticle {
	if base == nil {
		base = base2011
	}
	return append(append([]xsdParticle{}, base...), own...)
}
