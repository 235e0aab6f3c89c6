// The allocation engine: which warm game server a matchmaker gets. Pure.
//
// AllocationIndex groups allocatable servers into *label classes* (servers of one
// fleet with identical labels), and each class into per-(state, node) buckets. A
// selector is evaluated once per class, never once per server, and the scheduling
// strategy orders the candidate nodes by their loads, which the index keeps as
// running counts. Complexity per Select: O(S · (C + N log N)) for S selectors,
// C label classes holding a server in the selector's state (a class that empties is
// released) and N nodes holding candidates, plus the servers inspected by
// `players`, `counters` and `lists` filters (one when there are none). docs/allocation.md has the
// details.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/model.h"

namespace muster::core {

struct LabelRequirement {
  enum class Op { kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kIn;
  std::vector<std::string> values;
  bool operator==(const LabelRequirement&) const = default;
};
std::optional<LabelRequirement::Op> ParseLabelOp(const std::string& s);

struct PlayerFilter {
  int64_t min_available = 0;
  int64_t max_available = 0;  // 0 = no upper bound
  bool operator==(const PlayerFilter&) const = default;
};

// Agones' CounterSelector and ListSelector; a 0 maximum means no upper bound. A server
// without the named counter or list never matches.
struct CounterFilter {
  int64_t min_count = 0, max_count = 0;
  int64_t min_available = 0, max_available = 0;
  bool operator==(const CounterFilter&) const = default;
};
struct ListFilter {
  std::string contains_value;  // "" = any
  int64_t min_available = 0, max_available = 0;
  bool operator==(const ListFilter&) const = default;
};

struct GameServerSelector {
  Labels match_labels;
  std::vector<LabelRequirement> match_expressions;
  GameServerState state = GameServerState::kReady;  // Ready, or Allocated to join a running session
  std::optional<PlayerFilter> players;
  std::map<std::string, CounterFilter> counters;
  std::map<std::string, ListFilter> lists;
  bool operator==(const GameServerSelector&) const = default;
};

// Agones' allocation-time actions on the allocated server's counters and lists (its
// CounterAction and ListAction): a capacity first, then the count moved, or the values
// added (those past the capacity dropped) and then removed.
struct CounterAction {
  std::string action;  // "Increment" | "Decrement" | "" (none)
  int64_t amount = 0;
  std::optional<int64_t> capacity;
  bool operator==(const CounterAction&) const = default;
};
struct ListAction {
  std::optional<int64_t> capacity;
  std::vector<std::string> add_values;
  std::vector<std::string> delete_values;
  bool operator==(const ListAction&) const = default;
};

// An order among the servers the selectors allow, by the room left in one counter
// (capacity - count) or list (capacity - values), as Agones' `priorities`: Ascending
// prefers the least room (fills servers up), Descending the most. A server without that
// counter or list comes after every server with it. Priorities are compared in order;
// the first that tells two servers apart decides.
struct AllocationPriority {
  enum class Type { kCounter, kList };
  enum class Order { kAscending, kDescending };
  Type type = Type::kCounter;
  std::string key;
  Order order = Order::kAscending;
};

struct AllocationRequest {
  std::string fleet;                          // "" = any fleet (and standalone servers)
  std::string build_id;                       // Thundernetes: the fleet with this spec.buildID
  std::vector<GameServerSelector> selectors;  // tried in order; none = any Ready server
  std::optional<AllocationScheduling> scheduling;
  Labels labels;  // applied to the server in the same commit
  Labels annotations;
  std::string session_id;  // idempotency key; generated when empty
  std::string session_cookie;
  std::vector<std::string> initial_players;
  std::map<std::string, CounterAction> counter_actions;  // by counter name
  std::map<std::string, ListAction> list_actions;        // by list name
  // Packed and NewestNode: the order among the allowed servers on the first nodes with
  // one that the strategy ranks equal; the nodes keep their order. Distributed: the order
  // among all allowed servers, the least loaded node breaking ties. Name breaks every
  // remaining tie.
  std::vector<AllocationPriority> priorities;
};

// Applies `req`'s counter and list actions to the server being allocated, each as far as
// it can go, as Agones does: a count stays within [0, capacity], values past a list's
// capacity are dropped (duplicates too), and an action on a counter or list the server
// does not have, or a capacity out of range, is skipped. Returns what could not be done,
// one line each, for the log; the allocation goes ahead either way.
std::vector<std::string> ApplyAllocationActions(GameServer& gs, const AllocationRequest& req);

// How many of the sessions that joined a running one (AllocationInfo::joined) a server
// remembers: the most recent. A repeat of a join older than that is a new join. The bound
// keeps a long-running server's stored status, and every write of it, small.
inline constexpr size_t kJoinsRemembered = 128;

// Records that `session` joined the session on `info`, forgetting the oldest joins past
// kJoinsRemembered.
void RememberJoin(AllocationInfo& info, std::string session);

// Problems with a request, each with its field path ("selectors[0].matchExpressions[1].operator").
std::vector<FieldError> Validate(const AllocationRequest& req);

bool Matches(const GameServerSelector& sel, const Labels& labels);

class AllocationIndex {
 public:
  // Tracks `gs` as it is now: indexed if Ready or Allocated and not being deleted,
  // dropped otherwise. O(log n).
  void Update(const GameServer& gs);
  void Remove(const std::string& name);
  // Node facts for NewestNode (newest = latest `created_ms`).
  void SetNodeCreated(const std::string& node, TimeMs created_ms);

  // The server to allocate, or nullopt when no selector matches any server.
  // Ties break by name, so results are deterministic.
  std::optional<std::string> Select(const AllocationRequest& req) const;

  size_t size() const { return entries_.size(); }
  // Label classes holding servers now; a class that empties is released (its slot reused).
  size_t classes() const { return class_ids_.size(); }

 private:
  struct Entry {
    int cls;
    GameServerState state;
    std::string node;
    int64_t players_available;
    Counters counters;  // copies, for selectors' counter and list filters
    Lists lists;
  };
  static bool Fits(const GameServerSelector& sel, const Entry& e);
  // <0 when `a` comes before `b` by `priorities`, >0 after, 0 when they do not decide.
  static int ComparePriorities(const std::vector<AllocationPriority>& priorities, const Entry& a,
                               const Entry& b);
  struct NodeLoad {
    int ready = 0;
    int allocated = 0;
    TimeMs created_ms = 0;
  };
  struct LabelClass {
    std::string fleet;
    Labels labels;
    // (state, node) -> servers, ordered by name.
    std::map<std::pair<GameServerState, std::string>, std::set<std::string>> buckets;
  };

  // Select with priorities: every allowed server on the first rank of nodes with one
  // (Packed, NewestNode) or on every node (Distributed) is looked at.
  std::optional<std::string> SelectByPriorities(const AllocationRequest& req,
                                                AllocationScheduling scheduling,
                                                const GameServerSelector& sel,
                                                const std::vector<const LabelClass*>& matching,
                                                const std::vector<std::string>& nodes) const;
  int ClassFor(const std::string& fleet, const Labels& labels);
  // Takes `name` out of its bucket and the node counts; releases its class when that
  // empties. True if the class was released.
  bool Unbucket(const std::string& name, const Entry& e);
  // True if strategy `s` takes node `a` before node `b`; neither: the same rank.
  bool NodeBefore(const std::string& a, const std::string& b, AllocationScheduling s) const;
  std::vector<std::string> OrderNodes(const std::set<std::string>& nodes,
                                      AllocationScheduling s) const;
  void Count(const Entry& e, int delta);

  std::unordered_map<std::string, Entry> entries_;
  std::map<std::pair<std::string, Labels>, int> class_ids_;
  std::vector<LabelClass> classes_;  // by id; released ones are empty and in free_classes_
  std::vector<int> free_classes_;
  // The classes holding a server in each state: Select looks only at those in the state
  // its selector wants, so classes of Allocated servers (one per match when allocations
  // add a match label) cost nothing to a selection of Ready ones.
  std::map<GameServerState, std::set<int>> classes_in_state_;
  std::map<std::string, NodeLoad> nodes_;
};

}  // namespace muster::core
