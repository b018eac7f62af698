package node

import (
	"fmt"
	"os"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/country"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/internal/strictjson"
)

// Config is a node's configuration, read from a JSON file. Zero values take
// the defaults in Defaults.
type Config struct {
	// State is the ISO 3166-1 code of the state that runs the node,
	// alpha-3 (alpha-2 is taken and turned into alpha-3 by Defaults);
	// "XXX" (the default) says no state is set.
	State string `json:"state"`
	// Agency is the default source agency of records this node enrols.
	Agency string `json:"agency"`
	// Listen is the API's TCP address, e.g. "127.0.0.1:8443".
	Listen string `json:"listen"`
	// DataDir holds the SQLite store and other node files.
	DataDir string `json:"data_dir"`
	// Store is "sqlite" (the embedded default, DataDir/ebsp.db) or a
	// PostgreSQL URL (postgres://...).
	Store string `json:"store"`
	// TLS, when set, serves HTTPS and may authenticate clients by
	// certificate (mutual TLS).
	TLS *TLSConfig `json:"tls,omitempty"`
	// Tokens are the accepted bearer tokens, by SHA-256 hash (see
	// TokenHash), so that the file holds no secret.
	Tokens []TokenConfig `json:"tokens"`
	// MaxBodyBytes bounds every request body (413 beyond it).
	MaxBodyBytes int64 `json:"max_body_bytes"`
	// MaxImagePixels bounds decoded sample images (422 beyond it); a slap
	// of several fingers in an ANSI/NIST transaction may be four times it.
	MaxImagePixels int `json:"max_image_pixels"`
	// RatePerSecond and Burst bound each principal's request rate (429
	// beyond it).
	RatePerSecond float64 `json:"rate_per_second"`
	Burst         int     `json:"burst"`
	// CandidateCap bounds the candidate list of an identification.
	CandidateCap int `json:"candidate_cap"`
	// FPIRHit and FPIRReview are the target false-positive identification
	// rates of a hit and of a review decision: the thresholds follow the
	// gallery's size through the engine's impostor tail (see Tail).
	FPIRHit    float64 `json:"fpir_hit"`
	FPIRReview float64 `json:"fpir_review"`
	// FMRVerify is the false-match rate of one 1:1 verification (default
	// 1e-4): the verification threshold is the score a fraction FMRVerify
	// of impostor comparisons reach, whatever the gallery's size.
	FMRVerify float64 `json:"fmr_verify"`
	// SelfCalibration, when on, has the node measure the impostor tail of
	// its own gallery in the background (RunSelfCalibration).
	SelfCalibration SelfCalibrationConfig `json:"self_calibration"`
	// Thresholds, when set for a modality, fix its single-sample score
	// thresholds instead (scaled for n fused samples, see search.Policy).
	Thresholds map[biometric.Modality]Thresholds `json:"thresholds,omitempty"`
	// ImpostorTails, when set for a modality, replace the engine's built-in
	// impostor tail (engine.Engine.Tail) from which the thresholds follow the
	// gallery's size: a tail measured on the agency's own data (`ebsp eval
	// tail --fit`). A configured tail counts as calibrated: the operator
	// vouches for it. The built-in fingerprint tail is a conservative one
	// measured on 78,016 comparisons of real images (engine.FVCFingerTail,
	// docs/node.md).
	ImpostorTails map[biometric.Modality]engine.Tail `json:"impostor_tails,omitempty"`
	// FaceModels is the directory of the face models (ebsp models fetch).
	// When set, the node searches face photos with ebsp's recogniser
	// (engine.FacePhotos, docs/face.md) as well as the recogniser's
	// embeddings ("face-embedding"), which a node without them takes alone;
	// both keep the same template.
	FaceModels string `json:"face_models,omitempty"`
	// MinQuality is the quality gate (0-100) for enrolled fingerprint images.
	MinQuality int `json:"min_quality"`
	// MinMinutiae is the minutiae gate for enrolled fingerprint templates:
	// a template with fewer minutiae is refused (422 too_few_minutiae) so
	// that the officer recaptures. 0 takes DefaultMinMinutiae, -1 turns the
	// gate off. A template of a few minutiae scores high against anyone's
	// finger: with under 12, about 100 times as many impostors reach a small
	// gallery's hit threshold as against a template of 30 or more
	// (docs/node.md, "The minutiae gate").
	MinMinutiae int `json:"min_minutiae"`
	// CompactFingerprints keeps the fingerprint gallery's templates in
	// their compact form (search.Gallery.SetCompact; in the node's memory
	// and in its own matchers' shards): about 5.6 KB a finger instead of
	// 13.5 KB (5.1 and 12.9 before the verification's grid), the pair
	// table recomputed by each comparison, which makes
	// stage 2 of a search about 2.5 times dearer and scores exactly the
	// same (docs/search.md, "Memory"). For galleries larger than the
	// machine's memory holds in full.
	CompactFingerprints bool `json:"compact_fingerprints"`
	// Workers is the number of search goroutines (GOMAXPROCS when 0).
	Workers int `json:"workers"`
	// Exchange, when set, makes the node a member of partnerships
	// (docs/exchange.md): package partnership reads it.
	Exchange *ExchangeConfig `json:"exchange,omitempty"`
	// Cluster, when set, keeps the galleries of its modalities in matcher
	// shards over NATS (docs/scale.md); without it every gallery is in the
	// node's memory.
	Cluster *ClusterConfig `json:"cluster,omitempty"`
}

// ExchangeConfig is a node's membership of partnerships: where it answers
// partners, its credentials and the agreements it holds. Paths are as
// given (relative ones to the working directory).
type ExchangeConfig struct {
	// Listen is the partner endpoint's TCP address (mutual TLS), e.g.
	// "0.0.0.0:9443". Partners reach it at the endpoint their copy of
	// each agreement names.
	Listen string `json:"listen"`
	// Credentials is the directory `ebsp pki node` wrote: node.pem and
	// node.key (mutual TLS), sign.pem and sign.key (message signing),
	// log.key and log.pub (the transparency log's checkpoint key), ca.pem.
	Credentials string `json:"credentials"`
	// Agreements are the agreement files this node is a party to (as
	// `ebsp pki agreement` writes them), one per partner.
	Agreements []string `json:"agreements"`
	// RevocationLists are certificate revocation lists (X.509 CRLs, PEM
	// or DER, as `ebsp pki revoke` writes them) of the partners' CAs and
	// of this state's CA. Each must be signed by the CA of one of the
	// agreements. They are re-read every 30 seconds and on SIGHUP; a
	// certificate they list is refused at the TLS handshake and on every
	// message.
	RevocationLists []string `json:"revocation_lists,omitempty"`
	// ExpiryWarningDays is how long before a certificate of the exchange
	// expires the node starts to warn in its log (daily); 0 means 30.
	ExpiryWarningDays int `json:"expiry_warning_days,omitempty"`
}

// SelfCalibrationConfig paces the background measurement of the gallery's
// impostor tail. ComparisonsPerSecond 0 (the default) leaves it off; a
// fingerprint comparison takes about 14 µs of CPU, so 5,000 a second is
// about 7% of one core.
type SelfCalibrationConfig struct {
	ComparisonsPerSecond int `json:"comparisons_per_second"`
}

// TLSConfig names the node's certificate and, for mutual TLS, the CA that
// signs client certificates and the roles of each client by common name.
type TLSConfig struct {
	CertFile     string            `json:"cert_file"`
	KeyFile      string            `json:"key_file"`
	ClientCAFile string            `json:"client_ca_file,omitempty"`
	ClientRoles  map[string][]Role `json:"client_roles,omitempty"`
}

// TokenConfig is one accepted bearer token.
type TokenConfig struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Roles  []Role `json:"roles"`
}

// Defaults fills zero fields of c with the defaults.
func (c *Config) Defaults() {
	if c.State == "" {
		c.State = NoState
	}
	if cc, err := country.Parse(c.State); err == nil {
		c.State = cc.String()
	}
	if c.Agency == "" {
		c.Agency = c.State + "-node"
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "ebsp-data"
	}
	if c.Store == "" {
		c.Store = "sqlite"
	}
	if c.Cluster != nil {
		c.Cluster.defaults()
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 32 << 20
	}
	if c.MaxImagePixels == 0 {
		c.MaxImagePixels = 2048 * 2048
	}
	if c.RatePerSecond == 0 {
		c.RatePerSecond = 200
	}
	if c.Burst == 0 {
		c.Burst = 400
	}
	if c.FPIRHit == 0 {
		c.FPIRHit = 0.001
	}
	if c.FPIRReview == 0 {
		c.FPIRReview = 0.01
	}
	if c.CandidateCap == 0 {
		c.CandidateCap = 10
	}
	if c.FMRVerify == 0 {
		c.FMRVerify = 1e-4
	}
	if c.MinMinutiae == 0 {
		c.MinMinutiae = DefaultMinMinutiae
	}
}

// DefaultMinMinutiae is the default minutiae gate for enrolled fingerprint
// templates (Config.MinMinutiae). Of the 400 impressions of the five shared
// FVC sets, through our extractor, one has fewer (8 minutiae) and none of
// the 100 impressions that eval identification enrols.
const DefaultMinMinutiae = 12

// NoState is the State of a node whose configuration names none (an ISO
// 3166-1 user-assigned code, so that it is no state's).
const NoState = "XXX"

// Validate reports the first thing wrong with c, naming the field.
func (c *Config) Validate() error {
	if c.State != NoState {
		if _, err := country.Parse(c.State); err != nil {
			return fmt.Errorf("config: state: %v", err)
		}
	}
	switch {
	case c.MaxBodyBytes < 1024:
		return fmt.Errorf("config: max_body_bytes %d: want at least 1024", c.MaxBodyBytes)
	case c.CandidateCap < 1 || c.CandidateCap > 1000:
		return fmt.Errorf("config: candidate_cap %d: want 1 to 1000", c.CandidateCap)
	case c.FPIRHit <= 0 || c.FPIRHit > c.FPIRReview || c.FPIRReview >= 1:
		return fmt.Errorf("config: want 0 < fpir_hit %v <= fpir_review %v < 1", c.FPIRHit, c.FPIRReview)
	case !(c.FMRVerify > 0 && c.FMRVerify < 1):
		return fmt.Errorf("config: fmr_verify %v: want 0 < fmr_verify < 1", c.FMRVerify)
	case c.SelfCalibration.ComparisonsPerSecond < 0:
		return fmt.Errorf("config: self_calibration.comparisons_per_second %d: want 0 (off) or more", c.SelfCalibration.ComparisonsPerSecond)
	case c.MinQuality < 0 || c.MinQuality > 100:
		return fmt.Errorf("config: min_quality %d: want 0 to 100", c.MinQuality)
	case c.MinMinutiae < -1 || c.MinMinutiae > 255:
		return fmt.Errorf("config: min_minutiae %d: want -1 (off) or 1 to 255", c.MinMinutiae)
	case c.RatePerSecond < 0 || c.Burst < 0:
		return fmt.Errorf("config: rate_per_second and burst must not be negative")
	}
	if c.Cluster != nil {
		if err := c.Cluster.validate(c.SelfCalibration.ComparisonsPerSecond > 0); err != nil {
			return err
		}
	}
	for m, t := range c.Thresholds {
		if !m.Valid() {
			return fmt.Errorf("config: thresholds: unknown modality %q", m)
		}
		if t.Review > t.Hit {
			return fmt.Errorf("config: thresholds.%s: review %v above hit %v", m, t.Review, t.Hit)
		}
	}
	for m, t := range c.ImpostorTails {
		if !m.Valid() {
			return fmt.Errorf("config: impostor_tails: unknown modality %q", m)
		}
		if err := t.Validate(); err != nil {
			return fmt.Errorf("config: impostor_tails.%s: %w", m, err)
		}
	}
	if c.TLS != nil && (c.TLS.CertFile == "" || c.TLS.KeyFile == "") {
		return fmt.Errorf("config: tls needs cert_file and key_file")
	}
	if x := c.Exchange; x != nil {
		switch {
		case x.Listen == "":
			return fmt.Errorf("config: exchange.listen: the partner endpoint's address is required, e.g. \"0.0.0.0:9443\"")
		case x.Credentials == "":
			return fmt.Errorf("config: exchange.credentials: the directory 'ebsp pki node' wrote is required")
		case len(x.Agreements) == 0:
			return fmt.Errorf("config: exchange.agreements: at least one agreement file is required")
		case x.ExpiryWarningDays < 0:
			return fmt.Errorf("config: exchange.expiry_warning_days: %d is negative", x.ExpiryWarningDays)
		}
	}
	return nil
}

// LoadConfig reads a JSON configuration file, refusing unknown fields so
// that a misspelt setting is an error rather than silently ignored.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	// Errors name the file, line and column: "node.json:7:3: unknown
	// field "tokns"".
	if err := strictjson.Decode(path, data, &c); err != nil {
		return nil, err
	}
	return &c, nil
}
