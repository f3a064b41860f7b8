package orggen

import "time"

// GroundTruth describes a generated run: the organisation and every
// injected scenario with the events that make it up. It is written beside
// the data (ground-truth.json) so that detections can be scored against it.
type GroundTruth struct {
	// Generator names what wrote the data.
	Generator string `json:"generator"`
	// Seed, Start, End, Events, FlowRecords and FlowFormat repeat the
	// run's settings: the same values give the same data.
	Seed        uint64    `json:"seed"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Events      int       `json:"events"`
	FlowRecords int       `json:"flow_records"`
	FlowFormat  string    `json:"flow_format"`
	// OrgID is the generated organisation's id.
	OrgID string `json:"org_id"`
	// TrailBucket, FlowBucket and KeyPrefix say where the logs are.
	TrailBucket string `json:"trail_bucket"`
	FlowBucket  string `json:"flow_bucket"`
	KeyPrefix   string `json:"key_prefix,omitempty"`
	// Accounts lists the organisation's accounts, management first.
	Accounts []AccountTruth `json:"accounts"`
	// Scenarios lists the injected attacks in injection order.
	Scenarios []ScenarioTruth `json:"scenarios"`
}

// AccountTruth is one account of the generated organisation.
type AccountTruth struct {
	// ID is the 12-digit account id, Name its name in the organisation.
	ID   string `json:"id"`
	Name string `json:"name"`
	// Management marks the management account.
	Management bool `json:"management,omitempty"`
	// Regions are the account's enabled regions, its home region first.
	Regions []string `json:"regions"`
}

// ScenarioTruth is one injected attack.
type ScenarioTruth struct {
	// Name is the scenario's name (see Scenarios); Description says what
	// it does in a sentence.
	Name        string `json:"name"`
	Description string `json:"description"`
	// Techniques are MITRE ATT&CK technique ids.
	Techniques []string `json:"mitre_techniques"`
	// AccountID and Region are where the attack's events are logged.
	AccountID string `json:"account_id"`
	Region    string `json:"region"`
	// Principal is the ARN of the identity the attack acts as, when it
	// acts as one.
	Principal string `json:"principal,omitempty"`
	// Target names what the attack is aimed at (a bucket, a trail, an ENI).
	Target string `json:"target,omitempty"`
	// SourceIPs are the addresses the attack comes from, with their
	// countries in the same order.
	SourceIPs       []string `json:"source_ips"`
	SourceCountries []string `json:"source_countries,omitempty"`
	// Start and End are the first and last event time of the attack.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// EventIDs are the CloudTrail eventIDs of the attack's events.
	EventIDs []string `json:"event_ids,omitempty"`
	// FlowRecords locates the attack's VPC flow records.
	FlowRecords []FlowRecordRef `json:"flow_records,omitempty"`
}

// FlowRecordRef locates flow records in one object.
type FlowRecordRef struct {
	// Bucket and Key name the flow log object.
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// Indexes are record positions in the object, from zero: lines not
	// counting the header line in a text object, rows in a Parquet one.
	Indexes []int `json:"record_indexes"`
}

// groundTruth builds the run's ground truth (flow record references are
// added once the flow files are written).
func (w *world) groundTruth() *GroundTruth {
	gt := &GroundTruth{
		Generator:   "trailwatch gen",
		Seed:        w.cfg.Seed,
		OrgID:       w.org.id,
		Start:       time.Unix(w.start, 0).UTC(),
		End:         time.Unix(w.end, 0).UTC(),
		Events:      w.cfg.Events,
		FlowRecords: w.cfg.FlowRecords,
		FlowFormat:  w.cfg.FlowFormat,
		TrailBucket: w.cfg.TrailBucket,
		FlowBucket:  w.cfg.FlowBucket,
		KeyPrefix:   w.cfg.KeyPrefix,
		Scenarios:   []ScenarioTruth{},
	}
	for _, a := range w.org.accounts {
		at := AccountTruth{ID: a.id, Name: a.name, Management: a == w.org.mgmt}
		for _, reg := range a.regions {
			at.Regions = append(at.Regions, regions[reg].name)
		}
		gt.Accounts = append(gt.Accounts, at)
	}
	for _, s := range w.scenarios {
		gt.Scenarios = append(gt.Scenarios, s.truth)
	}
	return gt
}
