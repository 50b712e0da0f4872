package catalog

// Deadline is the earliest future day a host would fail a dated requirement.
type Deadline struct {
	Date     string `json:"date"`      // YYYY-MM-DD
	DaysLeft int    `json:"days_left"` // from the as-of day
	Action   string `json:"action"`    // ActionUpgrade, ActionFix or ActionMigrate
	Check    string `json:"check"`     // the requirement id
}
