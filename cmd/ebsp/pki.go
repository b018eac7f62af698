package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/internal/durable"
)

func init() {
	register("pki", "make a test CA, node certificates and agreements for a local partnership", runPKI)
}

func runPKI(args []string) int {
	const usage = `usage: ebsp pki init --state CC --out DIR
       ebsp pki node --ca DIR --name NODE [--host H1,H2] --out DIR
       ebsp pki agreement --id ID --a NODEDIR --b NODEDIR [--endpoint-a URL] [--endpoint-b URL] --out FILE
       ebsp pki revoke --ca DIR (--cert FILE | --serial N)... [--days N] [--out FILE]
       ebsp pki rotate --node DIR (--log | --sign (--ca DIR [--years N] | --cert FILE --key FILE))

init makes a state's test CA (ECDSA P-256): DIR/ca.pem, DIR/ca.key.
node issues a node's credentials from that CA: a mutual-TLS certificate
(node.pem, node.key), an Ed25519 message-signing certificate (sign.pem,
sign.key) and the checkpoint key of its audit log (log.key, log.pub).
agreement writes a partnership agreement between two nodes with the default
terms (edit the JSON to change them; it is validated when loaded).
revoke adds certificates to the CA's revocation list (DIR/crl.pem), which
nodes name in exchange.revocation_lists.
rotate replaces a node's log key or signing key; the old key signs the
rotation, which the node records in its log when it next starts.
These are test credentials for local partnerships and the demo.

'ebsp pki <init|node|agreement|revoke|rotate> -h' explains the flags.`
	return dispatch("pki", usage, args, map[string]func([]string) int{"init": pkiInit, "node": pkiNode, "agreement": pkiAgreement, "revoke": pkiRevoke, "rotate": pkiRotate})
}

func printResult(asJSON bool, v any, human string) {
	if asJSON {
		printJSON(v)
		return
	}
	fmt.Println(human)
}

func pkiInit(args []string) int {
	fs := newFlagSet("pki init", "usage: ebsp pki init --state CC --out DIR\n\nMakes a state's test CA (ECDSA P-256): DIR/ca.pem, DIR/ca.key.")
	state := fs.String("state", "", "the state's ISO 3166-1 alpha-2 code, e.g. US")
	out := fs.String("out", "", "directory to write ca.pem and ca.key into")
	years := fs.Int("years", 5, "validity in years")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *state == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "ebsp pki init: --state and --out are required")
		return 2
	}
	ca, err := exchange.NewCA(*state, time.Now(), time.Duration(*years)*365*24*time.Hour)
	if err != nil {
		return fail("pki init", err)
	}
	if err := ca.Save(*out); err != nil {
		return fail("pki init", err)
	}
	printResult(*asJSON, map[string]string{"state": ca.State, "ca_cert": filepath.Join(*out, exchange.CACertFile), "subject": ca.Cert.Subject.String()},
		fmt.Sprintf("CA %s written to %s", ca.Cert.Subject, *out))
	return 0
}

func pkiNode(args []string) int {
	fs := newFlagSet("pki node", "usage: ebsp pki node --ca DIR --name NODE [--host H1,H2] --out DIR\n\nIssues a node's credentials from a CA made by 'ebsp pki init': a mutual-TLS\ncertificate (node.pem, node.key), an Ed25519 message-signing certificate\n(sign.pem, sign.key) and the checkpoint key of its audit log (log.key, log.pub).")
	caDir := fs.String("ca", "", "the CA directory made by 'ebsp pki init'")
	name := fs.String("name", "", "the node's name (certificate common name), e.g. us-node")
	hosts := fs.String("host", "127.0.0.1,localhost", "comma-separated DNS names and IP addresses the node's TLS certificate is valid for")
	out := fs.String("out", "", "directory to write the node's credentials into")
	years := fs.Int("years", 2, "validity in years")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *caDir == "" || *name == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "ebsp pki node: --ca, --name and --out are required")
		return 2
	}
	ca, err := exchange.LoadCA(*caDir)
	if err != nil {
		return fail("pki node", err)
	}
	nc, err := ca.IssueNode(*name, strings.Split(*hosts, ","), time.Now(), time.Duration(*years)*365*24*time.Hour)
	if err != nil {
		return fail("pki node", err)
	}
	if err := nc.Save(*out); err != nil {
		return fail("pki node", err)
	}
	printResult(*asJSON, map[string]string{"state": nc.State, "node": nc.Node, "dir": *out, "log_key": nc.LogKey},
		fmt.Sprintf("node %s/%s credentials written to %s\naudit log key: %s", nc.State, nc.Node, *out, nc.LogKey))
	return 0
}

func pkiAgreement(args []string) int {
	fs := newFlagSet("pki agreement", "usage: ebsp pki agreement --id ID --a NODEDIR --b NODEDIR [--endpoint-a URL] [--endpoint-b URL] --out FILE\n\nWrites a partnership agreement between two nodes with the default terms (edit\nthe JSON to change them; it is validated when loaded).")
	id := fs.String("id", "", "agreement id, e.g. US-GB-2026")
	a := fs.String("a", "", "first party's node directory (made by 'ebsp pki node')")
	b := fs.String("b", "", "second party's node directory")
	ea := fs.String("endpoint-a", "", "base URL of the first party's partner endpoint, e.g. https://127.0.0.1:8443")
	eb := fs.String("endpoint-b", "", "base URL of the second party's partner endpoint")
	out := fs.String("out", "", "file to write the agreement JSON to")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *id == "" || *a == "" || *b == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "ebsp pki agreement: --id, --a, --b and --out are required")
		return 2
	}
	na, err := exchange.LoadNode(*a)
	if err != nil {
		return fail("pki agreement", err)
	}
	nb, err := exchange.LoadNode(*b)
	if err != nil {
		return fail("pki agreement", err)
	}
	ag := exchange.DefaultAgreement(*id, na.Party(*ea), nb.Party(*eb))
	if err := ag.Validate(); err != nil {
		return fail("pki agreement", err)
	}
	raw, err := ag.Marshal()
	if err != nil {
		return fail("pki agreement", err)
	}
	if err := os.WriteFile(*out, append(raw, '\n'), 0o644); err != nil {
		return fail("pki agreement", err)
	}
	printResult(*asJSON, map[string]string{"id": ag.ID, "file": *out}, fmt.Sprintf("agreement %s between %s/%s and %s/%s written to %s", ag.ID, na.State, na.Node, nb.State, nb.Node, *out))
	return 0
}

func pkiRevoke(args []string) int {
	fs := newFlagSet("pki revoke", "usage: ebsp pki revoke --ca DIR (--cert FILE | --serial N)... [--days N] [--out FILE]\n\nAdds certificates issued by the CA to its revocation list (an X.509 CRL,\nPEM) and signs it again: the list in --out (default DIR/crl.pem) keeps its\nentries, gets the new ones and the next number. Nodes that name the file in\nexchange.revocation_lists refuse those certificates at the TLS handshake\nand on every message, from their next reload (30 s, or SIGHUP). With no\n--cert or --serial it re-signs the list as it is (a fresh next update).")
	caDir := fs.String("ca", "", "the CA directory made by 'ebsp pki init'")
	var certs, serials listFlag
	fs.Var(&certs, "cert", "a PEM certificate file to revoke (node.pem, sign.pem); repeatable")
	fs.Var(&serials, "serial", "a serial number to revoke, decimal or 0x-hex; repeatable")
	days := fs.Int("days", 7, "days until the list's next update")
	out := fs.String("out", "", "the revocation list file (default CA/crl.pem)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *caDir == "" || *days < 1 {
		fmt.Fprintln(os.Stderr, "ebsp pki revoke: --ca is required and --days must be at least 1")
		return 2
	}
	if *out == "" {
		*out = filepath.Join(*caDir, exchange.CRLFile)
	}
	ca, err := exchange.LoadCA(*caDir)
	if err != nil {
		return fail("pki revoke", err)
	}
	var nums []*big.Int
	for _, f := range certs {
		b, err := os.ReadFile(f)
		if err != nil {
			return fail("pki revoke", err)
		}
		block, _ := pem.Decode(b)
		if block == nil || block.Type != "CERTIFICATE" {
			return fail("pki revoke", fmt.Errorf("%s: not a PEM certificate", f))
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fail("pki revoke", fmt.Errorf("%s: %v", f, err))
		}
		if c.CheckSignatureFrom(ca.Cert) != nil {
			return fail("pki revoke", fmt.Errorf("%s: %s was not issued by this CA (%s)", f, c.Subject, ca.Cert.Subject))
		}
		nums = append(nums, c.SerialNumber)
	}
	for _, s := range serials {
		n, ok := new(big.Int).SetString(s, 0)
		if !ok || n.Sign() <= 0 {
			return fail("pki revoke", fmt.Errorf("--serial %q is not a positive number", s))
		}
		nums = append(nums, n)
	}
	var prev *x509.RevocationList
	if b, err := os.ReadFile(*out); err == nil {
		if prev, err = exchange.ParseCRL(b); err != nil {
			return fail("pki revoke", fmt.Errorf("%s: %v", *out, err))
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fail("pki revoke", err)
	}
	raw, crl, err := ca.Revoke(prev, nums, time.Now(), time.Duration(*days)*24*time.Hour)
	if err != nil {
		return fail("pki revoke", err)
	}
	// Renamed into place, so a node re-reading it never sees half a file,
	// and synced, so that a revocation reported done survives a crash.
	// The list is public: readable by all, like the CA's certificate.
	if err := durable.WriteFile(*out, raw); err != nil {
		return fail("pki revoke", err)
	}
	if err := os.Chmod(*out, 0o644); err != nil {
		return fail("pki revoke", err)
	}
	printResult(*asJSON, map[string]any{"file": *out, "number": crl.Number.String(), "revoked": len(crl.RevokedCertificateEntries), "next_update": crl.NextUpdate.UTC()},
		fmt.Sprintf("revocation list %s: number %s, %d certificates revoked, next update %s", *out, crl.Number, len(crl.RevokedCertificateEntries), crl.NextUpdate.UTC().Format(time.RFC3339)))
	return 0
}

func pkiRotate(args []string) int {
	fs := newFlagSet("pki rotate", "usage: ebsp pki rotate --node DIR (--log | --sign (--ca DIR [--years N] | --cert FILE --key FILE))\n\nReplaces a node's transparency-log checkpoint key (--log: log.key, log.pub)\nor its message-signing key and certificate (--sign: sign.key, sign.pem,\nissued by --ca, or by the state's own PKI: --cert and --key, an Ed25519\ncertificate of the node from its CA and the PKCS #8 key) in the credentials\ndirectory. The old key signs a rotation\nstatement naming the new one (DIR/rotations/), its public part is kept in\nDIR/retired/ and its private part is not kept. Restart the node: it records\nthe rotation as a key_rotation leaf of its log, and partners holding the\nold key follow it to the new one; the agreement files stay as they are.")
	nodeDir := fs.String("node", "", "the node's credentials directory (made by 'ebsp pki node')")
	logKey := fs.Bool("log", false, "rotate the checkpoint key of the node's transparency log")
	signKey := fs.Bool("sign", false, "rotate the message-signing key (needs --ca)")
	caDir := fs.String("ca", "", "with --sign: the CA directory that issued the node's credentials (it issues the new certificate)")
	years := fs.Int("years", 2, "with --sign --ca: validity of the new signing certificate in years")
	certFile := fs.String("cert", "", "with --sign, instead of --ca: the new signing certificate (PEM), issued by the node's CA")
	keyFile := fs.String("key", "", "with --cert: the new Ed25519 signing key (PEM, PKCS #8)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *nodeDir == "" || *logKey == *signKey || (*signKey && (*caDir == "") == (*certFile == "" || *keyFile == "")) {
		fmt.Fprintln(os.Stderr, "ebsp pki rotate: --node and one of --log or --sign (with --ca, or with --cert and --key) are required")
		return 2
	}
	nc, err := exchange.LoadNode(*nodeDir)
	if err != nil {
		return fail("pki rotate", err)
	}
	var out *exchange.NodeCredentials
	if *logKey {
		out, err = nc.RotateLog(time.Now())
	} else if *caDir != "" {
		var ca *exchange.CA
		if ca, err = exchange.LoadCA(*caDir); err == nil {
			out, err = ca.RotateSign(nc, time.Now(), time.Duration(*years)*365*24*time.Hour)
		}
	} else {
		out, err = rotateSignFiles(nc, *certFile, *keyFile)
	}
	if err != nil {
		return fail("pki rotate", err)
	}
	if err := out.Save(*nodeDir); err != nil {
		return fail("pki rotate", err)
	}
	r := out.Rotations[len(out.Rotations)-1]
	printResult(*asJSON, map[string]any{"node": out.Node, "use": r.Use, "old": r.Old, "new": r.New, "rotations": len(out.Rotations)},
		fmt.Sprintf("node %s/%s: %s key rotated\n  old: %s\n  new: %s\nrestart the node to record the rotation in its log", out.State, out.Node, r.Use, r.Old, r.New))
	return 0
}

// rotateSignFiles rotates nc's signing key to the certificate and key in
// the files given (issued by the state's PKI).
func rotateSignFiles(nc *exchange.NodeCredentials, certFile, keyFile string) (*exchange.NodeCredentials, error) {
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	cert, key, err := exchange.ParseSignKeyPair(cb, kb, certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return nc.RotateSignTo(cert, key)
}
