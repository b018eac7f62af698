// Package store defines the records a national biometric node keeps and the
// contract every storage engine fulfils. Engines live in sub-packages
// (store/sqlite, the embedded default, and store/postgres); one conformance
// suite (store/storetest) runs against both.
//
// The data model follows the node's sketch: Identity 1-n Encounter 1-n
// Sample 1-n Template, Identity 1-n Flag. Every record carries its source
// agency, legal basis and expiry (Provenance).
package store

import (
	"context"
	"errors"
	"time"

	"github.com/ebsp/ebsp/biometric"
)

// Errors returned by every engine. Callers test them with errors.Is.
var (
	ErrNotFound  = errors.New("store: not found")
	ErrDuplicate = errors.New("store: duplicate id")
	ErrInvalid   = errors.New("store: invalid record")
	// ErrFull: the disk or database is out of space; nothing was written.
	// The node answers 507 and /readyz reports it until writes succeed.
	ErrFull = errors.New("store: storage full")
	// ErrUnavailable: the database cannot be reached or refused to work
	// (connection lost, server shutting down, I/O error); retry later.
	ErrUnavailable = errors.New("store: storage unavailable")
)

// Provenance says where a datum came from, on what legal basis it is held and
// until when. Expiry zero means no set expiry.
type Provenance struct {
	SourceAgency string    `json:"source_agency"`
	LegalBasis   string    `json:"legal_basis"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

// Identity is a person known to the node. Biographic fields are minimal and
// optional.
type Identity struct {
	ID          string    `json:"id"`
	Names       []string  `json:"names,omitempty"`
	DateOfBirth string    `json:"date_of_birth,omitempty"` // YYYY-MM-DD or partial
	Nationality []string  `json:"nationality,omitempty"`   // ISO 3166-1 alpha-3
	CaseRef     string    `json:"case_reference,omitempty"`
	Created     time.Time `json:"created"`
	Provenance
}

// Encounter is one contact with the person: a visa application, a border
// crossing, an arrest.
type Encounter struct {
	ID         string    `json:"id"`
	IdentityID string    `json:"identity_id"`
	Time       time.Time `json:"time"`
	Place      string    `json:"place,omitempty"`
	Agency     string    `json:"agency,omitempty"`
	Purpose    string    `json:"purpose,omitempty"`
	Provenance
}

// Sample is one captured biometric: an image (fingerprint, face, iris) or a
// profile (DNA).
type Sample struct {
	ID          string                   `json:"id"`
	EncounterID string                   `json:"encounter_id"`
	Modality    biometric.Modality       `json:"modality"`
	Position    biometric.FingerPosition `json:"position,omitempty"`
	Format      string                   `json:"format,omitempty"` // e.g. "png", "wsq", "iso19794-2"
	Data        []byte                   `json:"-"`
	Quality     int                      `json:"quality"`
	Provenance
}

// Template is a matcher's representation of a sample.
type Template struct {
	ID        string `json:"id"`
	SampleID  string `json:"sample_id"`
	Algorithm string `json:"algorithm"`
	Version   string `json:"version"`
	Data      []byte `json:"-"`
}

// Flag is a derogatory or administrative mark on an identity.
type Flag struct {
	ID         string    `json:"id"`
	IdentityID string    `json:"identity_id"`
	Category   string    `json:"category"` // e.g. "wanted", "immigration_violation", "removed"
	Source     string    `json:"source"`
	Created    time.Time `json:"created"`
	Provenance
}

// Enrolment is everything one enrolment writes, stored atomically: either all
// of it is durable when Enroll returns nil, or none of it is.
type Enrolment struct {
	Identity  Identity // created if Identity.ID is new, else the encounter is added to it
	Encounter Encounter
	Samples   []Sample
	Templates []Template
	Flags     []Flag
}

// GalleryEntry is what the in-memory gallery needs of a template to match:
// which identity and finger it belongs to, and its bytes.
type GalleryEntry struct {
	IdentityID string
	Modality   biometric.Modality
	Position   biometric.FingerPosition
	Algorithm  string
	TemplateID string
	Data       []byte
}

// IdentityRecord is an identity with what hangs off it.
type IdentityRecord struct {
	Identity   Identity    `json:"identity"`
	Encounters []Encounter `json:"encounters"`
	Samples    []Sample    `json:"samples"`
	Flags      []Flag      `json:"flags"`
}

// Store is the contract of a storage engine. Implementations are safe for
// concurrent use, and every write that returns nil is durable (fsynced).
type Store interface {
	// Enroll writes an enrolment in one transaction. A reused encounter,
	// sample, template or flag id gives ErrDuplicate and writes nothing; an
	// enrolment PrepareEnrolment refuses gives ErrInvalid and writes
	// nothing. An existing identity is kept as stored and gains the
	// encounter.
	Enroll(ctx context.Context, e Enrolment) error
	// Identity reads an identity with its encounters, samples and flags.
	Identity(ctx context.Context, id string) (IdentityRecord, error)
	// AddFlag attaches a flag to an existing identity.
	AddFlag(ctx context.Context, f Flag) error
	// Erase deletes an identity and everything hanging off it.
	Erase(ctx context.Context, id string) error
	// ExpireBefore deletes every identity whose expiry is before t and
	// returns their ids. It also deletes flags whose own expiry is before t
	// (flags hold no templates, so the gallery is unaffected); encounters
	// and samples with their own expiry are RecordExpirer's.
	ExpireBefore(ctx context.Context, t time.Time) ([]string, error)
	// Gallery calls fn for every template of the modality, in no set order,
	// to load the in-memory gallery. fn's error stops the walk and is
	// returned as is. Rows are streamed, not gathered; fn may keep
	// GalleryEntry.Data and may call the store.
	Gallery(ctx context.Context, m biometric.Modality, fn func(GalleryEntry) error) error
	// Counts returns the number of identities and templates.
	Counts(ctx context.Context) (identities, templates int, err error)
	// Ping reports whether the store can serve.
	Ping(ctx context.Context) error
	Close() error
}

// EncounterFinder is implemented by engines that find an encounter's
// identity by the encounter's id (both engines of this module): what makes
// an enrolment retried with the same client-supplied encounter id
// idempotent (the node answers the first enrolment's result).
type EncounterFinder interface {
	// EncounterIdentity returns the id of the identity an encounter
	// belongs to, ErrNotFound when there is no such encounter.
	EncounterIdentity(ctx context.Context, encounterID string) (string, error)
}
