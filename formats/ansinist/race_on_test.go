//go:build race

package ansinist

// raceEnabled is true under the race detector, which slows the XML
// encoder about tenfold: TestXMLContentModels then checks the small files
// only (test.sh runs every package once more without -race).
const raceEnabled = true
