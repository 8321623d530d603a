package wug

// DeviceTemplate describes a device to create with
// PATCH /devices/-/config/template (WUG's DeviceTemplate). Applying a
// template always creates a new device. Loosely typed fields (PollInterval,
// SNMPPort, AutoRefresh) are strings on the wire, as WUG defines them.
// Validate checks the contract's length limits.
type DeviceTemplate struct {
	// TemplateID is the caller's id for this template, echoed in the results.
	TemplateID string `json:"templateId,omitempty"`
	// DisplayName is required, at most 150 characters.
	DisplayName string `json:"displayName"`
	// DeviceType defaults to "Workstation" on the server.
	DeviceType string `json:"deviceType,omitempty"`
	// SNMPOID is at most 256 characters.
	SNMPOID  string `json:"snmpOid,omitempty"`
	SNMPPort string `json:"snmpPort,omitempty"`
	// PollInterval is in seconds, 10 to 84600, as a string.
	PollInterval string `json:"pollInterval,omitempty"`
	// PrimaryRole defaults to "Device".
	PrimaryRole   string   `json:"primaryRole,omitempty"`
	PrimaryRoleID string   `json:"primaryRoleId,omitempty"`
	SubRoles      []string `json:"subRoles,omitempty"`
	SubRoleIDs    []string `json:"subRoleIds,omitempty"`
	OS            string   `json:"os,omitempty"`
	// Brand is at most 256 characters.
	Brand string `json:"brand,omitempty"`
	// ActionPolicy is a policy name; unknown names are ignored by WUG.
	ActionPolicy string `json:"actionPolicy,omitempty"`
	Note         string `json:"note,omitempty"`
	// AutoRefresh is "true" or "false" (keep device details current).
	AutoRefresh         string                       `json:"autoRefresh,omitempty"`
	Credentials         []TemplateCredential         `json:"credentials,omitempty"`
	Interfaces          []TemplateInterface          `json:"interfaces"`
	Attributes          []NameValue                  `json:"attributes,omitempty"`
	CustomLinks         []NameValue                  `json:"customLinks,omitempty"`
	ActiveMonitors      []TemplateActiveMonitor      `json:"activeMonitors,omitempty"`
	PerformanceMonitors []TemplatePerformanceMonitor `json:"performanceMonitors,omitempty"`
	PassiveMonitors     []TemplatePassiveMonitor     `json:"passiveMonitors,omitempty"`
	Dependencies        []TemplateDependency         `json:"dependencies,omitempty"`
	NCMTasks            []TemplateNCMTask            `json:"ncmTasks,omitempty"`
	ApplicationProfiles []TemplateApplicationProfile `json:"applicationProfiles,omitempty"`
	Layer2Data          string                       `json:"layer2Data,omitempty"`
	// Groups place the device; each names a group and its parents from
	// "My Network" down. With none, WUG uses "Discovered Devices".
	Groups []TemplateGroup `json:"groups,omitempty"`
}

// TemplateCredential assigns a credential by name (at most one per type).
// CredentialType uses display names such as "SNMP v2" or "Windows".
type TemplateCredential struct {
	CredentialType string `json:"credentialType,omitempty"`
	Credential     string `json:"credential,omitempty"`
	CredentialID   int32  `json:"credentialId,omitempty"`
}

// TemplateInterface is a network interface of a templated device. At least
// one is required; NetworkAddress must be an IP address.
type TemplateInterface struct {
	DefaultInterface     bool   `json:"defaultInterface,omitempty"`
	PollUsingNetworkName bool   `json:"pollUsingNetworkName,omitempty"`
	NetworkAddress       string `json:"networkAddress"`
	NetworkName          string `json:"networkName,omitempty"`
	InterfaceID          int32  `json:"interfaceId,omitempty"`
}

// TemplateActiveMonitor assigns an active monitor by name (and class id).
type TemplateActiveMonitor struct {
	ClassID         string `json:"classId,omitempty"`
	Name            string `json:"name"`
	Argument        string `json:"argument,omitempty"`
	Comment         string `json:"comment,omitempty"`
	Interface       string `json:"interface,omitempty"`
	PollingInterval string `json:"pollingInterval,omitempty"`
	IsCritical      string `json:"isCritical,omitempty"`
	PollingOrder    string `json:"pollingOrder,omitempty"`
	MonitorID       int32  `json:"monitorId,omitempty"`
}

// TemplatePerformanceMonitor assigns a performance monitor; PollingInterval
// is in minutes.
type TemplatePerformanceMonitor struct {
	ClassID         string `json:"classId,omitempty"`
	Name            string `json:"name"`
	PollingInterval string `json:"pollingInterval,omitempty"`
	Protocol        string `json:"protocol,omitempty"`
	MonitorID       int32  `json:"monitorId,omitempty"`
}

// TemplatePassiveMonitor assigns a passive monitor with its actions.
type TemplatePassiveMonitor struct {
	ClassID   string   `json:"classId,omitempty"`
	Name      string   `json:"name"`
	Actions   []string `json:"actions,omitempty"`
	MonitorID int32    `json:"monitorId,omitempty"`
}

// TemplateDependency makes the device depend on another ("Up" or "Down").
type TemplateDependency struct {
	Direction      string                      `json:"direction,omitempty"`
	Dependency     *TemplateGroup              `json:"dependency,omitempty"`
	MatchAny       bool                        `json:"matchAny,omitempty"`
	MatchAllActive bool                        `json:"matchAllActive,omitempty"`
	Monitors       []TemplateDependencyMonitor `json:"monitors,omitempty"`
	DeviceID       int32                       `json:"deviceId,omitempty"`
}

// TemplateDependencyMonitor names a monitor of a dependency.
type TemplateDependencyMonitor struct {
	ClassID  string `json:"classId,omitempty"`
	Name     string `json:"name,omitempty"`
	Argument string `json:"argument,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

// TemplateNCMTask names an NCM task (ignored without NCM).
type TemplateNCMTask struct {
	Name string `json:"name"`
}

// TemplateApplicationProfile names an application profile.
type TemplateApplicationProfile struct {
	UpgradeGUID  string `json:"upgradeGuid,omitempty"`
	Name         string `json:"name,omitempty"`
	ActionPolicy string `json:"actionPolicy,omitempty"`
}

// TemplateGroup references a group by name and its parent chain from
// "My Network" down (DeviceTemplateReferenceName). WUG ignores ID on apply.
type TemplateGroup struct {
	Name    string   `json:"name"`
	Parents []string `json:"parents,omitempty"`
	ID      string   `json:"id,omitempty"`
}

// templateBatch is the body of PATCH /devices/-/config/template.
type templateBatch struct {
	Options   []string         `json:"options,omitempty"`
	Templates []DeviceTemplate `json:"templates"`
}

// ApplyTemplateResults is WUG's answer to a template apply.
type ApplyTemplateResults struct {
	IDMap      []TemplateMap      `json:"idMap,omitempty"`
	Errors     []TemplateErrorMap `json:"errors,omitempty"`
	Update     *TemplateUpdate    `json:"update,omitempty"`
	Operations int                `json:"operations,omitempty"`
	Successful int                `json:"successful,omitempty"`
}

// TemplateMap maps a template id to the id of the device it created.
type TemplateMap struct {
	TemplateID string `json:"templateId"`
	ResultID   string `json:"resultId"`
}

// TemplateErrorMap holds the errors or warnings of one template.
type TemplateErrorMap struct {
	TemplateID string   `json:"templateId"`
	Messages   []string `json:"messages"`
}

// TemplateUpdate reports the refresh scan an update option started.
type TemplateUpdate struct {
	Success     bool   `json:"success"`
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

// TemplateOutcome is the per-template result of Devices.BulkAdd.
type TemplateOutcome struct {
	// TemplateID identifies the template (as sent, or as WUG assigned it).
	TemplateID string
	// Index is the template's position in the caller's slice.
	Index int
	// DeviceID is the created device's id; empty when none was created.
	DeviceID string
	// Warnings are WUG's messages for a template that still created a device.
	Warnings []string
	// Err is set when the template created no device, naming "wug" and the
	// operation like the call's own error: it holds a *TemplateError
	// with WUG's messages, or the error of the whole batch call, or, when
	// the answer does not mention the template, an error matching
	// ErrOutcomeUnknown.
	Err error
}

// Created reports whether the template created a device.
func (o TemplateOutcome) Created() bool { return o.DeviceID != "" }
