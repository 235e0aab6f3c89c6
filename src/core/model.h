// The domain model: Fleet, GameServer, Node. Plain values; copied, changed and
// committed, never mutated in place once shared. Pure: no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/shared.h"
#include "core/state_machine.h"
#include "core/status.h"

namespace muster::core {

using Labels = std::map<std::string, std::string>;
using TimeMs =
    int64_t;  // milliseconds since the Unix epoch, always passed in (core reads no clock)

inline constexpr const char* kApiVersion = "muster.dev/v1";
inline constexpr const char* kFleetLabel = "muster.dev/fleet";
// Also set on a fleet's servers, so matchmakers written for Agones select them unchanged.
inline constexpr const char* kAgonesFleetLabel = "agones.dev/fleet";
// Stamped on every allocation, by a matchmaker or by the server itself (SDK Allocate).
inline constexpr const char* kLastAllocatedAnnotation = "agones.dev/last-allocated";

struct ObjectMeta {
  std::string name;
  Labels labels;
  Labels annotations;
  uint64_t version = 0;  // optimistic-concurrency version; 0 = not stored yet
  TimeMs created_ms = 0;
  // Set when deletion was requested (like Kubernetes' deletionTimestamp): the process is
  // stopped and the record removed once it is gone. 0 = not being deleted.
  TimeMs deletion_ms = 0;
  bool operator==(const ObjectMeta&) const = default;
};

enum class PortPolicy { kDynamic, kStatic, kPassthrough, kNone };
enum class Protocol { kUDP, kTCP, kTCPUDP };
enum class Scheduling { kPacked, kDistributed };
// Allocation adds Thundernetes' NewestNode (sessions land on the newest nodes so old ones drain).
enum class AllocationScheduling { kPacked, kDistributed, kNewestNode };

const char* PortPolicyName(PortPolicy p);
const char* ProtocolName(Protocol p);
const char* SchedulingName(Scheduling s);
std::optional<PortPolicy> ParsePortPolicy(const std::string& s);
std::optional<Protocol> ParseProtocol(const std::string& s);
std::optional<Scheduling> ParseScheduling(const std::string& s);
const char* AllocationSchedulingName(AllocationScheduling s);
std::optional<AllocationScheduling> ParseAllocationScheduling(const std::string& s);

struct PortSpec {
  std::string name;
  PortPolicy policy = PortPolicy::kDynamic;
  int container_port = 0;
  int host_port = 0;  // required for Static; assigned for Dynamic/Passthrough
  Protocol protocol = Protocol::kUDP;
  bool operator==(const PortSpec&) const = default;
};

struct HealthSpec {
  bool disabled = false;
  int initial_delay_s = 5;
  int period_s = 5;
  int failure_threshold = 3;
  bool operator==(const HealthSpec&) const = default;
};

struct EnvVar {
  std::string name;
  std::string value;
  bool has_value = true;  // false for Kubernetes `valueFrom` entries (not resolvable locally)
  bool operator==(const EnvVar&) const = default;
};

// What embedded mode runs: the first container of the pod template as a local process.
struct ProcessSpec {
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::vector<EnvVar> env;
  std::string working_dir;
  bool operator==(const ProcessSpec&) const = default;
};

// Agones counters and lists (beta SDK): declared on the template, kept per server in
// status, changed by the SDK, filtered on by allocation selectors.
inline constexpr int64_t kDefaultCapacity = 1000;
struct CounterStatus {
  int64_t count = 0;
  int64_t capacity = kDefaultCapacity;
  bool operator==(const CounterStatus&) const = default;
};
struct ListStatus {
  int64_t capacity = kDefaultCapacity;
  std::vector<std::string> values;  // in insertion order, no duplicates
  bool operator==(const ListStatus&) const = default;
};
using Counters = std::map<std::string, CounterStatus>;
using Lists = std::map<std::string, ListStatus>;

struct GameServerSpec {
  std::vector<PortSpec> ports;
  Counters counters;  // initial values; keys are the only counters the SDK may touch
  Lists lists;
  int64_t initial_player_capacity = 0;  // spec.players.initialCapacity (Agones alpha)
  HealthSpec health;
  Scheduling scheduling = Scheduling::kPacked;
  ProcessSpec process;           // extracted from pod_template
  int containers = 0;            // containers in pod_template.spec.containers
  int termination_grace_s = 30;  // pod_template.spec.terminationGracePeriodSeconds
  std::string
      pod_template_json;  // the PodTemplateSpec as given (canonical JSON), for Kubernetes mode
  bool operator==(const GameServerSpec&) const = default;
};

struct AssignedPort {
  std::string name;
  int port = 0;
  bool operator==(const AssignedPort&) const = default;
};

// The session a server was allocated to (status.allocation), set in the same commit
// as the move to Allocated and cleared when the server returns to Ready.
struct AllocationInfo {
  std::string session_id;
  std::string session_cookie;
  std::vector<std::string> initial_players;
  TimeMs allocated_ms = 0;
  // Sessions that joined this one (allocations with gameServerState: Allocated), oldest
  // first, kept so that each of them, repeated, finds this server again, also after a
  // restart. Only the most recent (core::kJoinsRemembered, core/allocation.h) are kept.
  std::vector<std::string> joined;
  bool operator==(const AllocationInfo&) const = default;
};

struct GameServerStatus {
  GameServerState state = GameServerState::kCreating;
  std::string node;
  std::string address;
  std::vector<AssignedPort> ports;
  int sdk_grpc_port = 0;
  int sdk_http_port = 0;
  int pid = 0;                       // 0 = no process
  uint64_t process_start_ticks = 0;  // /proc/<pid>/stat starttime: guards against pid reuse
  std::string reason;                // machine-readable cause of Error/Unhealthy
  std::string message;               // human-readable detail
  TimeMs state_since_ms = 0;
  TimeMs ready_ms = 0;                       // first time the server reported Ready; 0 = never
  std::optional<AllocationInfo> allocation;  // while Allocated through an allocation
  TimeMs reserved_until_ms = 0;              // while Reserved: back to Ready then; 0 = until told
  // Players, one model whichever SDK reports them. `player_ids` are the connected
  // players when the SDK names them (Agones alpha, GSDK); DGS callbacks report only a
  // count. `player_count` is authoritative.
  int64_t player_count = 0;
  int64_t player_capacity = 0;
  std::vector<std::string> player_ids;
  Counters counters;
  Lists lists;
  bool operator==(const GameServerStatus&) const = default;
};

struct GameServer {
  ObjectMeta meta;
  // A server Muster does not start (`muster register`): it runs elsewhere at
  // `status.address` and `status.ports`. It is allocatable like any other, takes SDK
  // calls if it makes them, and on scale-down or delete is removed, never signalled.
  bool external = false;
  bool external_sdk =
      true;  // a registered server gets SDK ports (off for hosts that cannot reach them)
  Shared<GameServerSpec> spec;  // immutable once the server exists: copies share it
  GameServerStatus status;
  std::string fleet;  // owning fleet, "" for a standalone server
  bool operator==(const GameServer&) const = default;
};

struct GameServerTemplate {
  Labels labels;
  Labels annotations;
  GameServerSpec spec;
  bool operator==(const GameServerTemplate&) const = default;
};

struct FleetSpec {
  int replicas = 0;
  std::string build_id;  // Thundernetes' buildID (a UUID), for /api/v1/allocate; "" = none
  Scheduling scheduling = Scheduling::kPacked;
  GameServerTemplate tmpl;
  bool operator==(const FleetSpec&) const = default;
};

struct FleetStatus {
  int replicas = 0;  // servers counted against spec.replicas
  int ready = 0;
  int allocated = 0;
  int reserved = 0;
  // Start failures in a row; creation backs off exponentially while this is > 0.
  int consecutive_failures = 0;
  TimeMs backoff_until_ms = 0;
  std::string reason;   // e.g. "StartFailed"
  std::string message;  // why servers are not coming up, shown by `muster describe`
  bool operator==(const FleetStatus&) const = default;
};

struct Fleet {
  ObjectMeta meta;
  FleetSpec spec;
  FleetStatus status;
  bool operator==(const Fleet&) const = default;
};

// An API token. Only its SHA-256 is stored; the token itself is shown once, at creation.
struct ApiToken {
  std::string name;
  std::string scope;  // admin | allocate | read
  std::string sha256_hex;
  TimeMs created_ms = 0;
  bool operator==(const ApiToken&) const = default;
};

struct Node {
  std::string name;
  std::string address;
  // When the node is due to go away (maintenance, drain, spot interruption); 0 = not
  // planned. Game servers hear of it: GSDK heartbeats carry nextScheduledMaintenanceUtc.
  TimeMs maintenance_ms = 0;
  bool operator==(const Node&) const = default;
};

// ApplyDefaults fills every unset field with its documented default; idempotent.
void ApplyDefaults(GameServerSpec& spec);
void ApplyDefaults(Fleet& fleet);
void ApplyDefaults(GameServer& gs);

// Validate returns every problem with its field path; empty means valid.
// `prefix` is the path of the spec inside the document ("spec" for a GameServer,
// "spec.template.spec" for a Fleet).
std::vector<FieldError> Validate(const GameServerSpec& spec, const std::string& prefix);
std::vector<FieldError> Validate(const Fleet& fleet);
std::vector<FieldError> Validate(const GameServer& gs);
// DNS-1123 label rules, as Kubernetes names: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63.
bool IsValidName(const std::string& name);
// Kubernetes qualified name, as label and annotation keys: [prefix/]name.
bool IsQualifiedName(const std::string& key);
// Kubernetes label value: empty, or at most 63 of [A-Za-z0-9-_.] starting and ending alphanumeric.
bool IsValidLabelValue(const std::string& value);

// Sets status counters, lists and player capacity from the spec's initial values.
void InitStatusFromSpec(GameServer& gs);

// A new GameServer stamped from a fleet's template. Ports are not assigned yet.
GameServer NewGameServerFromFleet(const Fleet& fleet, const std::string& name, TimeMs now);
// What a server of `fleet` carries in its metadata: the template's labels and annotations
// (under any it has of its own, which win) and the labels naming the fleet. For the
// fleet's own servers, and for servers registered into it.
void AddFleetMeta(const Fleet& fleet, ObjectMeta& meta);

// True if `s` is a UUID in its canonical 8-4-4-4-12 hex form.
bool IsUuid(const std::string& s);
// True if `a` and `b` are the same UUID: hex digits compare in any case.
bool SameUuid(const std::string& a, const std::string& b);

// Name of the environment variable that carries a named port: MUSTER_PORT_<NAME>,
// upper-cased, anything not [A-Z0-9] turned into '_'.
std::string PortEnvName(const std::string& port_name);

}  // namespace muster::core
