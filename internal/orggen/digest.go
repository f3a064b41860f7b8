package orggen

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// CloudTrail digest files: one per account, region and hour, listing the
// log files delivered in the hour with their SHA-256 and chained to the
// previous digest. The hashes are real; the signature cannot be: it
// would need CloudTrail's private key, so it is a stand-in of the right
// length and the digests do not verify with `aws cloudtrail
// validate-logs`.

// ctResult is what writing a CloudTrail file tells the digests.
type ctResult struct {
	key            string
	sha256         [32]byte // of the uncompressed content
	oldest, newest int64
}

// digestFile is the JSON of a digest file, fields in CloudTrail's order.
type digestFile struct {
	AWSAccountID                string          `json:"awsAccountId"`
	DigestStartTime             string          `json:"digestStartTime"`
	DigestEndTime               string          `json:"digestEndTime"`
	DigestS3Bucket              string          `json:"digestS3Bucket"`
	DigestS3Object              string          `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string          `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string          `json:"digestSignatureAlgorithm"`
	NewestEventTime             *string         `json:"newestEventTime"`
	OldestEventTime             *string         `json:"oldestEventTime"`
	PreviousDigestS3Bucket      *string         `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string         `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string         `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm *string         `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     *string         `json:"previousDigestSignature"`
	LogFiles                    []digestLogFile `json:"logFiles"`
}

type digestLogFile struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`
	HashAlgorithm   string `json:"hashAlgorithm"`
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
}

// object is one generated object ready to write.
type object struct {
	bucket, key string
	body        []byte // uncompressed
}

func isoTime(t int64) string { return string(appendISOTime(nil, t)) }

// digests builds every digest file from the written CloudTrail files.
func (w *world) digests(results []ctResult) ([]object, error) {
	byAcctRegion := map[[2]int][]int{}
	for i, f := range w.ctFiles {
		k := [2]int{f.acct.idx, f.region}
		byAcctRegion[k] = append(byAcctRegion[k], i)
	}
	r := newRNG(seedOf(w.cfg.Seed, hashString("digest")))
	fingerprint := randString(&r, 32, hexDigits)
	var out []object
	for _, a := range w.org.accounts {
		regs := append([]int(nil), a.regions...)
		for reg := range regions {
			if _, ok := byAcctRegion[[2]int{a.idx, reg}]; ok && !containsInt(regs, reg) {
				regs = append(regs, reg)
			}
		}
		for _, reg := range regs {
			files := byAcctRegion[[2]int{a.idx, reg}]
			var prev *digestFile
			var prevHash [32]byte
			var prevSig string
			// Digests cover whole hours up to the last delivery.
			last := w.end + 2*w.slotSec
			for hs := w.start; hs < last; hs += 3600 {
				he := hs + 3600
				d := &digestFile{
					AWSAccountID:               a.id,
					DigestStartTime:            isoTime(hs),
					DigestEndTime:              isoTime(he),
					DigestS3Bucket:             w.cfg.TrailBucket,
					DigestPublicKeyFingerprint: fingerprint,
					DigestSignatureAlgorithm:   "SHA256withRSA",
					LogFiles:                   []digestLogFile{},
				}
				key := w.prefix() + "AWSLogs/" + w.org.id + "/" + a.id + "/CloudTrail-Digest/" + regions[reg].name + "/" +
					string(appendDatePath(nil, he)) + "/" + a.id + "_CloudTrail-Digest_" + regions[reg].name + "_" +
					w.org.trailName + "_" + regions[w.org.home].name + "_" + time.Unix(he, 0).UTC().Format("20060102T150405Z") + ".json.gz"
				d.DigestS3Object = key
				oldest, newest := int64(1<<62), int64(-1<<62)
				for _, i := range files {
					f, res := w.ctFiles[i], results[i]
					if f.deliver < hs || f.deliver >= he {
						continue
					}
					d.LogFiles = append(d.LogFiles, digestLogFile{
						S3Bucket: w.cfg.TrailBucket, S3Object: res.key, HashValue: hex.EncodeToString(res.sha256[:]),
						HashAlgorithm: "SHA-256", NewestEventTime: isoTime(res.newest), OldestEventTime: isoTime(res.oldest),
					})
					oldest, newest = min(oldest, res.oldest), max(newest, res.newest)
				}
				if len(d.LogFiles) > 0 {
					o, n := isoTime(oldest), isoTime(newest)
					d.OldestEventTime, d.NewestEventTime = &o, &n
				}
				if prev != nil {
					bucket, obj, h, alg, sig := w.cfg.TrailBucket, prev.DigestS3Object, hex.EncodeToString(prevHash[:]), "SHA-256", prevSig
					d.PreviousDigestS3Bucket, d.PreviousDigestS3Object = &bucket, &obj
					d.PreviousDigestHashValue, d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature = &h, &alg, &sig
				}
				body, err := json.Marshal(d)
				if err != nil {
					return nil, fmt.Errorf("encode digest %s: %w", key, err)
				}
				prev, prevHash = d, sha256.Sum256(body)
				// A stand-in signature: 256 bytes, like an RSA-2048 one.
				sig := sha256.Sum256(append(prevHash[:], fingerprint...))
				prevSig = ""
				for k := 0; k < 8; k++ {
					prevSig += hex.EncodeToString(sig[:])
				}
				out = append(out, object{bucket: w.cfg.TrailBucket, key: key, body: body})
			}
		}
	}
	return out, nil
}

// prefix is the key prefix with its slash, or "".
func (w *world) prefix() string {
	if w.cfg.KeyPrefix == "" {
		return ""
	}
	return trimSlash(w.cfg.KeyPrefix) + "/"
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
