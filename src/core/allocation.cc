#include "core/allocation.h"

#include <algorithm>

#include "core/sdk_ops.h"

namespace muster::core {
namespace {

bool Allocatable(const GameServer& gs) {
  return gs.meta.deletion_ms == 0 && (gs.status.state == GameServerState::kReady ||
                                      gs.status.state == GameServerState::kAllocated);
}

bool Satisfies(const LabelRequirement& r, const Labels& labels) {
  auto it = labels.find(r.key);
  const bool has = it != labels.end();
  switch (r.op) {
    case LabelRequirement::Op::kExists: return has;
    case LabelRequirement::Op::kDoesNotExist: return !has;
    case LabelRequirement::Op::kIn:
      return has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    case LabelRequirement::Op::kNotIn:
      return !has || std::find(r.values.begin(), r.values.end(), it->second) == r.values.end();
  }
  return false;
}

bool PlayersFit(const std::optional<PlayerFilter>& f, int64_t available) {
  if (!f) return true;
  if (available < f->min_available) return false;
  return f->max_available == 0 || available <= f->max_available;
}

}  // namespace

std::optional<LabelRequirement::Op> ParseLabelOp(const std::string& s) {
  if (s == "In") return LabelRequirement::Op::kIn;
  if (s == "NotIn") return LabelRequirement::Op::kNotIn;
  if (s == "Exists") return LabelRequirement::Op::kExists;
  if (s == "DoesNotExist") return LabelRequirement::Op::kDoesNotExist;
  return std::nullopt;
}

bool Matches(const GameServerSelector& sel, const Labels& labels) {
  for (const auto& [k, v] : sel.match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const auto& r : sel.match_expressions)
    if (!Satisfies(r, labels)) return false;
  return true;
}

std::vector<FieldError> Validate(const AllocationRequest& req) {
  std::vector<FieldError> out;
  if (!req.fleet.empty() && !IsValidName(req.fleet))
    out.push_back({"fleet", "not a valid fleet name"});
  for (size_t i = 0; i < req.selectors.size(); ++i) {
    const auto& s = req.selectors[i];
    const std::string path = "selectors[" + std::to_string(i) + "]";
    for (const auto& [k, v] : s.match_labels) {
      if (!IsQualifiedName(k))
        out.push_back({path + ".matchLabels", "invalid label key \"" + k + "\""});
      else if (!IsValidLabelValue(v))
        out.push_back({path + ".matchLabels." + k, "invalid label value \"" + v + "\""});
    }
    for (size_t j = 0; j < s.match_expressions.size(); ++j) {
      const auto& r = s.match_expressions[j];
      const std::string rp = path + ".matchExpressions[" + std::to_string(j) + "]";
      if (!IsQualifiedName(r.key))
        out.push_back({rp + ".key", "invalid label key \"" + r.key + "\""});
      const bool takes_values =
          r.op == LabelRequirement::Op::kIn || r.op == LabelRequirement::Op::kNotIn;
      if (takes_values && r.values.empty())
        out.push_back({rp + ".values", "In and NotIn need at least one value"});
      if (!takes_values && !r.values.empty())
        out.push_back({rp + ".values", "Exists and DoesNotExist take no values"});
    }
    if (s.state != GameServerState::kReady && s.state != GameServerState::kAllocated)
      out.push_back({path + ".gameServerState", "must be Ready or Allocated"});
    if (s.players) {
      if (s.players->min_available < 0)
        out.push_back({path + ".players.minAvailable", "must not be negative"});
      if (s.players->max_available < 0)
        out.push_back({path + ".players.maxAvailable", "must not be negative"});
      if (s.players->max_available > 0 && s.players->min_available > s.players->max_available)
        out.push_back({path + ".players", "minAvailable must not exceed maxAvailable"});
    }
    for (const auto& [name, f] : s.counters) {
      const std::string at = path + ".counters." + name;
      if (f.min_count < 0 || f.max_count < 0 || f.min_available < 0 || f.max_available < 0)
        out.push_back({at, "bounds must not be negative"});
      if (f.max_count > 0 && f.min_count > f.max_count)
        out.push_back({at, "minCount must not exceed maxCount"});
      if (f.max_available > 0 && f.min_available > f.max_available)
        out.push_back({at, "minAvailable must not exceed maxAvailable"});
    }
    for (const auto& [name, f] : s.lists) {
      const std::string at = path + ".lists." + name;
      if (f.min_available < 0 || f.max_available < 0)
        out.push_back({at, "bounds must not be negative"});
      if (f.max_available > 0 && f.min_available > f.max_available)
        out.push_back({at, "minAvailable must not exceed maxAvailable"});
    }
  }
  for (size_t i = 0; i < req.priorities.size(); ++i)
    if (req.priorities[i].key.empty())
      out.push_back({"priorities[" + std::to_string(i) + "].key",
                     "required: the counter or list to order by"});
  for (const auto& [k, v] : req.labels) {
    if (!IsQualifiedName(k))
      out.push_back({"metadata.labels", "invalid label key \"" + k + "\""});
    else if (!IsValidLabelValue(v))
      out.push_back({"metadata.labels." + k, "invalid label value \"" + v + "\""});
  }
  for (const auto& [k, v] : req.annotations)
    if (!IsQualifiedName(k))
      out.push_back({"metadata.annotations", "invalid annotation key \"" + k + "\""});
  if (req.session_id.size() > 128) out.push_back({"sessionId", "at most 128 characters"});
  return out;
}

int AllocationIndex::ClassFor(const std::string& fleet, const Labels& labels) {
  auto key = std::make_pair(fleet, labels);
  auto it = class_ids_.find(key);
  if (it != class_ids_.end()) return it->second;
  int id;
  if (!free_classes_.empty()) {
    id = free_classes_.back();
    free_classes_.pop_back();
    classes_[id] = {fleet, labels, {}};
  } else {
    id = static_cast<int>(classes_.size());
    classes_.push_back({fleet, labels, {}});
  }
  class_ids_.emplace(std::move(key), id);
  return id;
}

void AllocationIndex::Count(const Entry& e, int delta) {
  NodeLoad& load = nodes_[e.node];
  (e.state == GameServerState::kReady ? load.ready : load.allocated) += delta;
}

bool AllocationIndex::Unbucket(const std::string& name, const Entry& e) {
  Count(e, -1);
  LabelClass& cls = classes_[e.cls];
  auto& buckets = cls.buckets;
  auto b = buckets.find({e.state, e.node});
  if (b == buckets.end()) return false;
  b->second.erase(name);
  if (!b->second.empty()) return false;
  buckets.erase(b);
  auto same_state = buckets.lower_bound({e.state, ""});
  if (same_state == buckets.end() || same_state->first.first != e.state)
    classes_in_state_[e.state].erase(e.cls);
  if (!buckets.empty()) return false;
  class_ids_.erase({cls.fleet, cls.labels});
  cls = LabelClass{};
  free_classes_.push_back(e.cls);
  return true;
}

void AllocationIndex::Remove(const std::string& name) {
  auto it = entries_.find(name);
  if (it == entries_.end()) return;
  Unbucket(name, it->second);
  entries_.erase(it);
}

void AllocationIndex::Update(const GameServer& gs) {
  const std::string& name = gs.meta.name;
  auto it = entries_.find(name);
  int cls = -1;  // its label class, kept when its fleet and labels are (an allocation's case)
  if (it != entries_.end()) {
    const LabelClass& had = classes_[it->second.cls];
    if (had.fleet == gs.fleet && had.labels == gs.meta.labels) cls = it->second.cls;
    if (Unbucket(name, it->second)) cls = -1;  // its class was released: made anew below
  }
  if (!Allocatable(gs)) {
    if (it != entries_.end()) entries_.erase(it);
    return;
  }
  if (cls < 0) cls = ClassFor(gs.fleet, gs.meta.labels);
  Entry e{cls,
          gs.status.state,
          gs.status.node,
          gs.status.player_capacity - gs.status.player_count,
          gs.status.counters,
          gs.status.lists};
  classes_[e.cls].buckets[{e.state, e.node}].insert(name);
  classes_in_state_[e.state].insert(e.cls);
  Count(e, +1);
  if (it != entries_.end())
    it->second = std::move(e);
  else
    entries_.emplace(name, std::move(e));
}

void AllocationIndex::SetNodeCreated(const std::string& node, TimeMs created_ms) {
  nodes_[node].created_ms = created_ms;
}

bool AllocationIndex::NodeBefore(const std::string& a, const std::string& b,
                                 AllocationScheduling s) const {
  auto load = [this](const std::string& n) {
    auto it = nodes_.find(n);
    return it == nodes_.end() ? NodeLoad{} : it->second;
  };
  const NodeLoad la = load(a), lb = load(b);
  switch (s) {
    case AllocationScheduling::kPacked:  // fill the busiest node first, so others empty out
      if (la.allocated != lb.allocated) return la.allocated > lb.allocated;
      return la.ready > lb.ready;
    case AllocationScheduling::kDistributed:  // spread sessions: least loaded first
      if (la.allocated != lb.allocated) return la.allocated < lb.allocated;
      return la.ready > lb.ready;
    case AllocationScheduling::kNewestNode: return la.created_ms > lb.created_ms;
  }
  return false;
}

std::vector<std::string> AllocationIndex::OrderNodes(const std::set<std::string>& nodes,
                                                     AllocationScheduling s) const {
  std::vector<std::string> out(nodes.begin(), nodes.end());
  std::stable_sort(out.begin(), out.end(),
                   [&](const std::string& a, const std::string& b) { return NodeBefore(a, b, s); });
  return out;
}

int AllocationIndex::ComparePriorities(const std::vector<AllocationPriority>& priorities,
                                       const Entry& a, const Entry& b) {
  // The room left, or nullopt when the server has no such counter or list.
  auto room = [](const AllocationPriority& p, const Entry& e) -> std::optional<int64_t> {
    if (p.type == AllocationPriority::Type::kCounter) {
      auto it = e.counters.find(p.key);
      if (it == e.counters.end()) return std::nullopt;
      return it->second.capacity - it->second.count;
    }
    auto it = e.lists.find(p.key);
    if (it == e.lists.end()) return std::nullopt;
    return it->second.capacity - static_cast<int64_t>(it->second.values.size());
  };
  for (const AllocationPriority& p : priorities) {
    const auto ra = room(p, a), rb = room(p, b);
    if (!ra && !rb) continue;
    if (!ra || !rb) return ra ? -1 : 1;  // one without it: last, either order
    if (*ra == *rb) continue;
    const bool a_first = p.order == AllocationPriority::Order::kAscending ? *ra < *rb : *ra > *rb;
    return a_first ? -1 : 1;
  }
  return 0;
}

std::optional<std::string> AllocationIndex::SelectByPriorities(
    const AllocationRequest& req, AllocationScheduling scheduling, const GameServerSelector& sel,
    const std::vector<const LabelClass*>& matching, const std::vector<std::string>& nodes) const {
  struct Best {
    const std::string* name;
    const Entry* entry;
    int rank;  // of its node: nodes the strategy cannot tell apart share one
  };
  std::optional<Best> best;
  int rank = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (i > 0 && NodeBefore(nodes[i - 1], nodes[i], scheduling)) {
      // Packed, NewestNode: the servers of the first rank of nodes with one, as one set.
      if (best && scheduling != AllocationScheduling::kDistributed) break;
      ++rank;
    }
    for (const LabelClass* cls : matching) {
      auto b = cls->buckets.find({sel.state, nodes[i]});
      if (b == cls->buckets.end()) continue;
      for (const std::string& name : b->second) {
        const Entry& e = entries_.at(name);
        if (!Fits(sel, e)) continue;
        int c = best ? ComparePriorities(req.priorities, e, *best->entry) : -1;
        if (c == 0) c = rank != best->rank ? rank - best->rank : name.compare(*best->name);
        if (c < 0) best = Best{&name, &e, rank};
      }
    }
  }
  if (!best) return std::nullopt;
  return *best->name;
}

bool AllocationIndex::Fits(const GameServerSelector& sel, const Entry& e) {
  if (!PlayersFit(sel.players, e.players_available)) return false;
  auto within = [](int64_t v, int64_t min, int64_t max) {
    return v >= min && (max == 0 || v <= max);
  };
  for (const auto& [name, f] : sel.counters) {
    auto it = e.counters.find(name);
    if (it == e.counters.end()) return false;
    const CounterStatus& c = it->second;
    if (!within(c.count, f.min_count, f.max_count)) return false;
    if (!within(c.capacity - c.count, f.min_available, f.max_available)) return false;
  }
  for (const auto& [name, f] : sel.lists) {
    auto it = e.lists.find(name);
    if (it == e.lists.end()) return false;
    const ListStatus& l = it->second;
    if (!f.contains_value.empty() &&
        std::find(l.values.begin(), l.values.end(), f.contains_value) == l.values.end())
      return false;
    if (!within(l.capacity - static_cast<int64_t>(l.values.size()), f.min_available,
                f.max_available))
      return false;
  }
  return true;
}

std::optional<std::string> AllocationIndex::Select(const AllocationRequest& req) const {
  static const std::vector<GameServerSelector> kAnyReady = {GameServerSelector{}};
  const auto& selectors = req.selectors.empty() ? kAnyReady : req.selectors;
  const AllocationScheduling scheduling = req.scheduling.value_or(AllocationScheduling::kPacked);
  for (const GameServerSelector& sel : selectors) {
    std::vector<const LabelClass*> matching;
    std::set<std::string> nodes;
    auto in_state = classes_in_state_.find(sel.state);
    if (in_state == classes_in_state_.end()) continue;
    for (int id : in_state->second) {
      const LabelClass& cls = classes_[id];
      if (!req.fleet.empty() && cls.fleet != req.fleet) continue;
      if (!Matches(sel, cls.labels)) continue;
      bool any = false;
      for (auto it = cls.buckets.lower_bound({sel.state, ""});
           it != cls.buckets.end() && it->first.first == sel.state; ++it) {
        nodes.insert(it->first.second);
        any = true;
      }
      if (any) matching.push_back(&cls);
    }
    if (matching.empty()) continue;
    const std::vector<std::string> ordered = OrderNodes(nodes, scheduling);
    if (!req.priorities.empty()) {
      if (auto best = SelectByPriorities(req, scheduling, sel, matching, ordered)) return best;
      continue;
    }
    for (const std::string& node : ordered) {
      std::optional<std::string> best;
      for (const LabelClass* cls : matching) {
        auto b = cls->buckets.find({sel.state, node});
        if (b == cls->buckets.end()) continue;
        for (const std::string& name : b->second) {
          if (best && name >= *best) break;  // buckets are ordered: nothing better follows
          if (Fits(sel, entries_.at(name))) {
            best = name;
            break;
          }
        }
      }
      if (best) return best;
    }
  }
  return std::nullopt;
}

void RememberJoin(AllocationInfo& info, std::string session) {
  info.joined.push_back(std::move(session));
  if (info.joined.size() > kJoinsRemembered)
    info.joined.erase(info.joined.begin(),
                      info.joined.end() - static_cast<std::ptrdiff_t>(kJoinsRemembered));
}

std::vector<std::string> ApplyAllocationActions(GameServer& gs, const AllocationRequest& req) {
  std::vector<std::string> skipped;
  // Runs `apply` on each named counter or list the server has; says which it lacks.
  auto each = [&](auto& have, const auto& actions, const std::string& what, auto apply) {
    for (const auto& [name, action] : actions) {
      auto it = have.find(name);
      if (it == have.end())
        skipped.push_back(what + " " + name + ": the game server has no such " + what);
      else
        apply(what + " " + name, it->second, action);
    }
  };
  each(gs.status.counters, req.counter_actions, "counter",
       [&](const std::string& which, CounterStatus& c, const CounterAction& a) {
         if (a.capacity && *a.capacity < 0)
           skipped.push_back(which + ": capacity must not be negative");
         else if (a.capacity)
           c.capacity = *a.capacity;
         // 0 <= count <= capacity before and after (a lowered capacity lowers the count),
         // and no overflow however large the amount: count and amount are at least 0.
         c.count = std::min(c.count, c.capacity);
         if (a.action == "Increment")
           c.count = a.amount >= c.capacity - c.count ? c.capacity : c.count + a.amount;
         else if (a.action == "Decrement")
           c.count = a.amount >= c.count ? 0 : c.count - a.amount;
       });
  each(gs.status.lists, req.list_actions, "list",
       [&](const std::string& which, ListStatus& l, const ListAction& a) {
         if (a.capacity && (*a.capacity < 0 || *a.capacity > kMaxListCapacity))
           skipped.push_back(which + ": capacity must be 0 to " + std::to_string(kMaxListCapacity));
         else if (a.capacity)
           l.capacity = *a.capacity;
         for (const std::string& v : a.add_values)
           if (std::find(l.values.begin(), l.values.end(), v) == l.values.end())
             l.values.push_back(v);
         if (static_cast<int64_t>(l.values.size()) > l.capacity) l.values.resize(l.capacity);
         for (const std::string& v : a.delete_values) std::erase(l.values, v);
       });
  return skipped;
}

}  // namespace muster::core
