// Package privacy holds ebsp's privacy-enhancing search: an encrypted 1:N
// hit count in which the responding state learns nothing about a probe,
// built on the CKKS approximate homomorphic encryption scheme (Cheon, Kim,
// Kim, Song, ASIACRYPT 2017) and its two-party threshold variant
// (Mouchet, Troncoso-Pastoriza, Bossuat, Hubaux, "Multiparty homomorphic
// encryption from ring-learning-with-errors", PETS 2021), as implemented by
// Lattigo v6.
//
// The protocol, per partnership agreement:
//
//   - Key setup (Party.Round1, Round2, Finish): each state draws its own
//     secret-key share; together they derive, from a common reference seed,
//     the relinearisation and rotation keys of the joint key s = s_A + s_B.
//     Nobody ever holds s.
//   - Probe (Party.EncryptProbe): the requester normalises its embedding,
//     projects it to Params.Dim dimensions, repeats it across all slots and
//     encrypts it under its own share with a seeded mask, so only one
//     polynomial travels (Probe).
//   - Search (Party.Search): the responder completes the probe to the joint
//     key, computes every gallery similarity (baby-step giant-step diagonal
//     products against its plaintext gallery, packed one gallery entry per
//     slot), applies a composite minimax approximation of the step
//     function at Params.Threshold, sums all slots and all blocks, and
//     returns the one ciphertext together with its own decryption share,
//     noise-flooded (Reply).
//   - Count (Party.Count): the requester adds its decryption share and reads
//     the number of gallery entries whose similarity exceeds the threshold.
//
// docs/privacy.md states what each party learns, the threat model, the
// parameters and their security level, and the limits of the noise flooding.
package privacy
