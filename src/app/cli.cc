#include "app/cli.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <iostream>

#include <CLI/CLI.hpp>

#include "api/auth.h"
#include "api/http_client.h"
#include "app/cli_output.h"
#include "app/client_config.h"
#include "app/manifests.h"
#include "app/serve.h"
#include "runtime/host.h"

namespace muster::app {
namespace {

// `muster allocate`: nothing can be allocated now (HTTP 429); worth a retry later.
constexpr int kExitNoneAvailable = 3;
constexpr int kExitUnreachable = 2;  // no answer at all: a script may retry, or start serve

using nlohmann::json;

enum class Resource { kFleet, kGameServer };

bool ParseResource(const std::string& s, Resource* out) {
  if (s == "fleet" || s == "fleets" || s == "flt")
    *out = Resource::kFleet;
  else if (s == "gameserver" || s == "gameservers" || s == "gs")
    *out = Resource::kGameServer;
  else
    return false;
  return true;
}

std::string Collection(Resource r) {
  return r == Resource::kFleet ? "/v1/fleets" : "/v1/gameservers";
}

// KEY=VALUE flags as a map: each key a qualified name, a key at most once, and for labels
// (and selectors) each value a valid label value; an annotation's value is free text (it
// may hold '='). CLI::ValidationError naming `flag` otherwise (exit 100+), before anything
// is sent.
enum class Pairs { kLabels, kAnnotations };
json KeyValueFlags(const std::vector<std::string>& flags, const std::string& flag, Pairs kind) {
  const std::string what = kind == Pairs::kLabels ? "label" : "annotation";
  json pairs = json::object();
  for (const auto& kv : flags) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw CLI::ValidationError(flag, "must be KEY=VALUE, got \"" + kv + "\"");
    const std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (!core::IsQualifiedName(key))
      throw CLI::ValidationError(flag, "\"" + key + "\" is no " + what +
                                           " key (letters, digits, '-', '_', '.', an optional "
                                           "DNS prefix and '/')");
    if (kind == Pairs::kLabels && !core::IsValidLabelValue(value))
      throw CLI::ValidationError(flag, "\"" + value +
                                           "\" is no label value (at most 63 letters, digits, "
                                           "'-', '_' or '.', starting and ending alphanumeric)");
    if (pairs.contains(key))
      throw CLI::ValidationError(flag, "the key \"" + key + "\" is given twice");
    pairs[key] = value;
  }
  return pairs;
}

// A CLI11 check for a name given as a flag: an empty one (an unset variable in a script)
// would silently mean "any fleet", "no fleet" or "no session", so it is refused instead.
std::string NotBlank(const std::string& v) {
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  if (std::all_of(v.begin(), v.end(), space)) return "must not be empty";
  if (space(v.front()) || space(v.back())) return "must not start or end with a space";
  return "";
}

// `--priority Counter|List:KEY[:Ascending|Descending]`, split at ':'.
std::vector<std::string> SplitPriority(const std::string& v) {
  std::vector<std::string> parts;
  for (size_t at = 0;;) {
    size_t colon = v.find(':', at);
    parts.push_back(v.substr(at, colon - at));
    if (colon == std::string::npos) return parts;
    at = colon + 1;
  }
}

// The CLI11 check of --priority: "" when well formed.
std::string PriorityFlag(const std::string& v) {
  const auto parts = SplitPriority(v);
  if (parts.size() < 2 || parts.size() > 3 || parts[1].empty())
    return "must be Counter|List:KEY[:Ascending|Descending], got " + v;
  if (parts[0] != "Counter" && parts[0] != "List")
    return "the type must be Counter or List, got " + parts[0];
  if (parts.size() == 3 && parts[2] != "Ascending" && parts[2] != "Descending")
    return "the order must be Ascending or Descending, got " + parts[2];
  return "";
}

// The CLI11 check of a value a parser in core or api owns: "" when `parse` takes it.
template <typename Parse>
CLI::Validator TakenBy(Parse parse, std::string what) {
  return CLI::Validator(
      [parse, what](std::string& v) { return parse(v) ? std::string() : what + ", got " + v; },
      what);
}

// Talks to the API; prints failures as the user should see them.
class Client {
 public:
  explicit Client(const ClientFlags& flags) : flags_(flags) {}

  // The parsed body on 2xx; prints the error and returns nullopt otherwise.
  std::optional<json> Call(api::http::verb method, const std::string& target,
                           const std::string& body = "", api::HttpResult* raw_out = nullptr,
                           const std::string& type = "application/json") {
    auto raw = Raw(method, target, body, type);
    if (!raw) return std::nullopt;
    if (raw_out) *raw_out = *raw;
    json parsed = json::parse(raw->body, nullptr, false);
    if (raw->status >= 200 && raw->status < 300)
      return parsed.is_discarded() ? json(raw->body) : parsed;
    PrintError(*raw, parsed);
    return std::nullopt;
  }

  // "error: FIELD: MESSAGE" (the field once, also where the message already starts with
  // it), or every problem on a line of its own; a 401 says where a token comes from.
  void PrintError(const api::HttpResult& raw, const json& parsed) const {
    auto text = [&](const json& j, const char* key) {
      return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                    : std::string();
    };
    if (parsed.is_object() && parsed.contains("problems") && parsed["problems"].size() > 1) {
      std::cerr << "error: " << parsed["problems"].size() << " problems:\n";
      for (const auto& p : parsed["problems"])
        std::cerr << "  " << text(p, "field") << ": " << text(p, "message") << "\n";
      return;
    }
    std::string message = parsed.is_object() ? text(parsed, "message") : "";
    if (message.empty()) message = raw.body;
    const std::string field = text(parsed, "field");
    // "fleet: fleet x not found" says the field twice: a message that starts with it is
    // printed as it is.
    const bool names_field =
        message.rfind(field + ": ", 0) == 0 || message.rfind(field + " ", 0) == 0;
    if (!field.empty() && !names_field) message = field + ": " + message;
    std::cerr << "error: " << message << "\n";
    if (raw.status == 401)
      std::cerr << "  (the token comes from --token, else MUSTER_TOKEN, else "
                   "DATA_DIR/admin.token, DATA_DIR being --data-dir or ./muster-data)\n";
  }

  // True if the last request could not be sent (Muster not running, or not at that address).
  bool unreachable() const { return unreachable_; }

  std::optional<api::HttpResult> Raw(api::http::verb method, const std::string& target,
                                     const std::string& body, const std::string& type) {
    auto config = ResolveClientConfig(flags_);
    if (!config.ok()) {
      std::cerr << "error: " << Describe(config.status()) << "\n";
      return std::nullopt;
    }
    if (!client_)
      client_ = std::make_unique<api::HttpClient>(config->host, config->port, config->token);
    auto res = client_->Send(method, target, body, type);
    // Exit 2 only when nothing was sent: a request that went out may have been carried out.
    unreachable_ = !res.ok() && res.status().code() == core::Code::kUnavailable;
    if (unreachable_) {
      std::cerr << "error: cannot reach Muster at " << config->host << ":" << config->port << " ("
                << res.status().message()
                << "). Is `muster serve` running? Set --addr or MUSTER_ADDR.\n";
      return std::nullopt;
    }
    if (!res.ok()) {
      std::cerr << "error: no whole answer from Muster (" << res.status().message()
                << "); the request may have been carried out: check before repeating it\n";
      return std::nullopt;
    }
    return *res;
  }

 private:
  const ClientFlags& flags_;
  std::unique_ptr<api::HttpClient> client_;
  bool unreachable_ = false;
};

int Print(const json& value, OutputFormat format, Resource r, bool list) {
  const int64_t now = runtime::NowMs();
  switch (format) {
    case OutputFormat::kJson: std::cout << value.dump(2) << "\n"; return 0;
    case OutputFormat::kYaml: std::cout << ToYaml(value); return 0;
    case OutputFormat::kTable:
    case OutputFormat::kWide: {
      json items = list ? value["items"] : json::array({value});
      if (list && items.empty()) {
        std::cerr << "No " << (r == Resource::kFleet ? "fleets" : "game servers") << " found.\n";
        return 0;
      }
      bool wide = format == OutputFormat::kWide;
      std::cout << FormatTable(r == Resource::kFleet ? FleetRows(items, wide, now)
                                                     : GameServerRows(items, wide, now));
      return 0;
    }
  }
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{
      "Muster: an orchestrator for dedicated game servers.\n"
      "Run `muster serve` to start it, then manage fleets with the other verbs.",
      "muster"};
  app.footer(
      "Exit codes: 0 done; 1 refused or failed (the reason is on stderr); 2 Muster could not be "
      "reached; 3 `allocate` found nothing free now (retry later); 100+ a bad flag.");
  app.require_subcommand(1);
  app.fallthrough();
  ClientFlags flags;
  app.add_option("--addr", flags.addr,
                 "Muster API address HOST:PORT (env MUSTER_ADDR; default: "
                 "DATA_DIR/muster.addr, then 127.0.0.1:6200)")
      ->check([](const std::string& v) -> std::string {
        if (v.empty()) return "";  // as if not given: MUSTER_ADDR, then the defaults
        auto parsed = api::ParseAddress(v);
        return parsed.ok() ? "" : parsed.status().message();
      });
  app.add_option("--token", flags.token,
                 "Bearer token (env MUSTER_TOKEN; default: DATA_DIR/admin.token)");
  app.add_option("--data-dir", flags.data_dir, "Local data dir to find the address and token in")
      ->capture_default_str()
      ->envname("MUSTER_DATA_DIR");
  Client client(flags);
  int rc = 0;

  ServeOptions serve_options;
  AddServeCommand(app, serve_options);
  app.get_subcommand("serve")->callback([&] { rc = RunServe(serve_options); });

  std::string file;
  auto* apply =
      app.add_subcommand("apply", "Create or update fleets and game servers from a manifest file");
  apply
      ->add_option("-f,--filename", file,
                   "YAML or JSON manifest, one or more documents ('-' = stdin)")
      ->required();
  apply->callback([&] {
    rc = ApplyFile(file, [&](const ManifestObject& m) -> core::StatusOr<std::string> {
      api::HttpResult raw;
      auto out =
          client.Call(api::http::verb::post, m.kind == "Fleet" ? "/v1/fleets" : "/v1/gameservers",
                      m.doc.dump(), &raw);
      if (!out) return core::Status(core::Code::kInvalidArgument, "rejected (see above)");
      auto outcome = raw.headers.find("muster-apply");
      return outcome != raw.headers.end()
                 ? outcome->second
                 : std::string(raw.status == 201 ? "created" : "configured");
    });
  });

  std::string resource, name, output, fleet_filter;
  auto* get = app.add_subcommand("get", "List fleets or game servers, or show one");
  get->add_option("resource", resource, "fleets | gameservers (also: fleet, gs)")->required();
  get->add_option("name", name, "Show only this one");
  get->add_option("-o,--output", output, "wide | json | yaml");
  get->add_option("--fleet", fleet_filter, "Only the game servers of this fleet")->check(NotBlank);
  get->callback([&] {
    Resource r;
    OutputFormat format;
    if (!ParseResource(resource, &r))
      throw CLI::ValidationError("resource",
                                 "must be fleets or gameservers, not \"" + resource + "\"");
    if (!ParseOutputFormat(output, &format))
      throw CLI::ValidationError("--output", "must be wide, json or yaml");
    std::string target = Collection(r) + (name.empty() ? "" : "/" + name);
    if (name.empty() && r == Resource::kGameServer && !fleet_filter.empty())
      target += "?fleet=" + fleet_filter;
    auto out = client.Call(api::http::verb::get, target);
    rc = out ? Print(*out, format, r, name.empty()) : 1;
  });

  auto* describe = app.add_subcommand("describe", "Show one fleet or game server in detail");
  describe->add_option("resource", resource, "fleet | gameserver")->required();
  describe->add_option("name", name, "Its name")->required();
  describe->callback([&] {
    Resource r;
    if (!ParseResource(resource, &r))
      throw CLI::ValidationError("resource", "must be fleet or gameserver");
    auto out = client.Call(api::http::verb::get, Collection(r) + "/" + name);
    if (!out) {
      rc = 1;
      return;
    }
    std::cout << DescribeObject(*out, runtime::NowMs());
    if (r == Resource::kFleet) {
      auto servers = client.Call(api::http::verb::get, "/v1/gameservers?fleet=" + name);
      if (servers && !(*servers)["items"].empty())
        std::cout << "Game servers:\n"
                  << FormatTable(GameServerRows((*servers)["items"], false, runtime::NowMs()));
    }
  });

  std::string at;
  bool clear = false;
  auto* node = app.add_subcommand("node", "Show nodes, or plan a node's maintenance");
  node->require_subcommand(1);
  node->add_subcommand("list", "List nodes (embedded mode: this one)")->callback([&] {
    auto out = client.Call(api::http::verb::get, "/v1/nodes");
    if (out)
      for (const auto& n : (*out)["items"])
        std::cout << n.value("name", "") << "\t" << n.value("address", "") << "\t"
                  << n.value("maintenanceAt", "-") << "\n";
    rc = out ? 0 : 1;
  });
  auto* maintenance = node->add_subcommand(
      "maintenance",
      "Plan maintenance of a node: its game servers hear of it through their SDK (GSDK: "
      "nextScheduledMaintenanceUtc), so matches can end before the machine goes away");
  maintenance->add_option("node", name, "The node")->required();
  maintenance->add_option("--at", at, "When, in UTC: 2026-12-01T10:00:00Z");
  maintenance->add_flag("--clear", clear, "Cancel the planned maintenance");
  maintenance->callback([&] {
    if (at.empty() == !clear)
      throw CLI::ValidationError("--at", "give either --at TIME or --clear");
    auto out = client.Call(api::http::verb::put, "/v1/nodes/" + name + "/maintenance",
                           json{{"at", at}}.dump());
    if (out)
      std::cout << "node/" << name
                << (clear ? " maintenance cleared" : " maintenance planned at " + at) << "\n";
    rc = out ? 0 : 1;
  });

  int replicas = -1;
  auto* scale = app.add_subcommand("scale", "Set a fleet's replicas");
  scale->add_option("resource", resource, "fleet")->required();
  scale->add_option("name", name, "The fleet")->required();
  scale->add_option("--replicas", replicas, "How many game servers it should have")->required();
  scale->callback([&] {
    Resource r;
    if (!ParseResource(resource, &r) || r != Resource::kFleet)
      throw CLI::ValidationError("resource", "only fleets scale");
    if (replicas < 0) throw CLI::ValidationError("--replicas", "must not be negative");
    auto out = client.Call(api::http::verb::put, "/v1/fleets/" + name + "/scale",
                           json{{"replicas", replicas}}.dump());
    if (out) std::cout << "fleet/" << name << " scaled to " << replicas << "\n";
    rc = out ? 0 : 1;
  });

  auto* del =
      app.add_subcommand("delete", "Delete a fleet (and its game servers) or a game server");
  del->add_option("resource", resource, "fleet | gameserver")->required();
  del->add_option("name", name, "Its name")->required();
  del->callback([&] {
    Resource r;
    if (!ParseResource(resource, &r))
      throw CLI::ValidationError("resource", "must be fleet or gameserver");
    auto out = client.Call(api::http::verb::delete_, Collection(r) + "/" + name);
    if (out)
      std::cout << (r == Resource::kFleet ? "fleet/" : "gameserver/") << name << " deleted\n";
    rc = out ? 0 : 1;
  });

  uint64_t limit = 256 * 1024;
  auto* logs = app.add_subcommand("logs", "Print a game server's stdout and stderr");
  logs->add_option("gameserver", name, "The game server")->required();
  logs->add_option("--limit-bytes", limit, "At most this many bytes, from the end")
      ->capture_default_str();
  logs->callback([&] {
    auto raw =
        client.Raw(api::http::verb::get,
                   "/v1/gameservers/" + name + "/logs?limitBytes=" + std::to_string(limit), "", "");
    if (!raw) {
      rc = 1;
      return;
    }
    if (raw->status != 200) {
      json e = json::parse(raw->body, nullptr, false);
      std::cerr << "error: " << (e.is_object() ? e.value("message", raw->body) : raw->body) << "\n";
      rc = 1;
      return;
    }
    std::cout << raw->body;
  });

  std::string alloc_fleet, session, scheduling_flag, alloc_state, cookie;
  std::vector<std::string> selector_flags, set_label_flags, set_annotation_flags, players,
      priority_flags;
  std::optional<int64_t> min_players_free;
  auto* allocate = app.add_subcommand(
      "allocate",
      "Allocate a Ready game server, or one already Allocated to join its session (as a "
      "matchmaker would). Exits 3 when none is available now (HTTP 429: try again later), 1 on "
      "other errors");
  allocate->add_option("--fleet", alloc_fleet, "Only from this fleet")->check(NotBlank);
  allocate->add_option("--selector,-l", selector_flags,
                       "Label KEY=VALUE the server must have (repeatable; all must match)");
  allocate
      ->add_option("--session", session,
                   "Session id: repeating it returns the same server (default: a new UUID)")
      ->check(NotBlank);
  allocate->add_option("--scheduling", scheduling_flag, "Packed | Distributed | NewestNode")
      ->check(TakenBy(core::ParseAllocationScheduling, "Packed, Distributed or NewestNode"));
  allocate
      ->add_option("--state", alloc_state,
                   "Ready (default: start a session on a free server) | Allocated (join a "
                   "running session; --session then names this join, and a repeat of it finds "
                   "the same server again)")
      ->check(CLI::IsMember({"Ready", "Allocated"}));
  allocate
      ->add_option("--min-players-free", min_players_free,
                   "Only a server with room for at least this many more players")
      ->check(CLI::NonNegativeNumber);
  allocate
      ->add_option("--priority", priority_flags,
                   "Counter|List:KEY[:Ascending|Descending]: among the servers allowed, the one "
                   "with the least (Ascending, the default) or most room left in that counter or "
                   "list first (repeatable; the first that tells two apart decides)")
      ->check(PriorityFlag);
  allocate->add_option("--set-label", set_label_flags,
                       "Label KEY=VALUE to put on the server, in the same commit (repeatable)");
  allocate->add_option("--set-annotation", set_annotation_flags,
                       "Annotation KEY=VALUE to put on the server, in the same commit "
                       "(repeatable)");
  allocate->add_option("--cookie", cookie,
                       "Session cookie handed to the game server (a fresh session only)");
  allocate
      ->add_option("--player", players,
                   "Id of a player who joins at once (repeatable; initialPlayers; a fresh "
                   "session only)")
      ->check(NotBlank);
  allocate->add_option("-o,--output", output, "json");
  allocate->callback([&] {
    json labels = KeyValueFlags(selector_flags, "--selector", Pairs::kLabels);
    json set_labels = KeyValueFlags(set_label_flags, "--set-label", Pairs::kLabels);
    json set_annotations =
        KeyValueFlags(set_annotation_flags, "--set-annotation", Pairs::kAnnotations);
    if (!output.empty() && output != "json") throw CLI::ValidationError("--output", "only json");
    // A join keeps the running session's cookie and players: these would be dropped.
    if (alloc_state == "Allocated")
      for (const auto& [flag, given] :
           {std::pair{"--cookie", !cookie.empty()}, std::pair{"--player", !players.empty()}})
        if (given)
          throw CLI::ValidationError(flag,
                                     "only a fresh session takes one; --state Allocated joins "
                                     "a running session, which keeps its own");
    json body = json::object();
    if (!alloc_fleet.empty()) body["fleet"] = alloc_fleet;
    json selector = json::object();
    if (!labels.empty()) selector["matchLabels"] = labels;
    if (!alloc_state.empty()) selector["gameServerState"] = alloc_state;
    if (min_players_free) selector["players"] = {{"minAvailable", *min_players_free}};
    if (!selector.empty()) body["selectors"] = json::array({selector});
    if (!set_labels.empty()) body["metadata"]["labels"] = set_labels;
    if (!set_annotations.empty()) body["metadata"]["annotations"] = set_annotations;
    if (!session.empty()) body["sessionId"] = session;
    if (!cookie.empty()) body["sessionCookie"] = cookie;
    if (!players.empty()) body["initialPlayers"] = players;
    if (!scheduling_flag.empty()) body["scheduling"] = scheduling_flag;
    for (const auto& flag : priority_flags) {
      auto parts = SplitPriority(flag);
      json priority = {{"type", parts[0]}, {"key", parts[1]}};
      if (parts.size() == 3) priority["order"] = parts[2];
      body["priorities"].push_back(priority);
    }
    api::HttpResult raw;
    auto out = client.Call(api::http::verb::post, "/v1/allocations", body.dump(), &raw);
    if (!out) {
      rc = raw.status == 429 ? kExitNoneAvailable : 1;  // 429: a script may retry
      return;
    }
    if (raw.status == 200)  // 201 is a new allocation; 200 answers a repeated session
      std::cerr << "session " << (*out)["sessionId"].get<std::string>()
                << " already had this server (a repeat: nothing new was allocated)\n";
    if (output == "json") {
      std::cout << out->dump(2) << "\n";
    } else {
      std::string ports;
      for (const auto& p : (*out)["ports"])
        ports += (ports.empty() ? "" : ",") + p["name"].get<std::string>() + "=" +
                 std::to_string(p["port"].get<int>());
      std::cout << FormatTable(
          {{"GAMESERVER", "ADDRESS", "PORTS", "NODE", "SESSION"},
           {(*out)["gameServer"], (*out)["address"], ports, (*out)["node"], (*out)["sessionId"]}});
    }
  });

  std::string token_scope, token_name;
  auto* token = app.add_subcommand("token", "Create, list and revoke API tokens");
  token->require_subcommand(1);
  auto* token_create = token->add_subcommand("create", "Create a token; it is shown once");
  token_create->add_option("--scope", token_scope, "admin | allocate | read")
      ->required()
      ->check(TakenBy(api::ParseScope, "admin, allocate or read"));
  auto* token_name_opt =
      token_create->add_option("--name", token_name, "A name to list and revoke it by");
  token_create->callback([&] {
    json body = {{"scope", token_scope}};
    if (token_name_opt->count() > 0) body["name"] = token_name;
    auto out = client.Call(api::http::verb::post, "/v1/tokens", body.dump());
    if (!out) {
      rc = 1;
      return;
    }
    std::cerr << "token " << (*out)["name"].get<std::string>() << " (scope " << token_scope
              << ") created; it is shown only now:\n";
    std::cout << (*out)["token"].get<std::string>() << "\n";
  });
  token->add_subcommand("list", "List tokens (never their values)")->callback([&] {
    auto out = client.Call(api::http::verb::get, "/v1/tokens");
    if (!out) {
      rc = 1;
      return;
    }
    std::vector<std::vector<std::string>> rows = {{"NAME", "SCOPE", "CREATED"}};
    for (const auto& t : (*out)["items"]) rows.push_back({t["name"], t["scope"], t["createdAt"]});
    std::cout << FormatTable(rows);
  });
  auto* token_revoke = token->add_subcommand("revoke", "Revoke a token: refused from now on");
  token_revoke->add_option("name", token_name, "The token's name")->required();
  token_revoke->callback([&] {
    auto out = client.Call(api::http::verb::delete_, "/v1/tokens/" + token_name);
    if (out) std::cout << "token " << token_name << " revoked\n";
    rc = out ? 0 : 1;
  });

  std::string reg_address, reg_fleet;
  std::vector<std::string> reg_ports, reg_labels;
  auto* reg = app.add_subcommand(
      "register", "Add a game server that runs elsewhere (Muster does not start it)");
  reg->add_option("name", name, "Its name")->required();
  reg->add_option("--address", reg_address, "Where players reach it")->required();
  reg->add_option("--port", reg_ports, "NAME=PORT players connect to (repeatable)")->required();
  reg->add_option("--fleet", reg_fleet, "Count it as one of this fleet's servers")->check(NotBlank);
  reg->add_option("--label,-l", reg_labels, "KEY=VALUE (repeatable)");
  bool reg_no_sdk = false;
  reg->add_flag("--no-sdk", reg_no_sdk,
                "Give it no SDK ports (it runs where 127.0.0.1 is not this host)");
  reg->callback([&] {
    json ports = json::array(), labels = json::object();
    for (const auto& kv : reg_ports) {
      auto eq = kv.find('=');
      int port = 0;
      if (eq != std::string::npos) {
        const char* first = kv.data() + eq + 1;
        const char* last = kv.data() + kv.size();
        auto [end, ec] = std::from_chars(first, last, port);
        if (ec != std::errc() || end != last) port = 0;  // "7777x" is no port
      }
      if (eq == std::string::npos || eq == 0 || port < 1 || port > 65535)
        throw CLI::ValidationError("--port",
                                   "must be NAME=PORT with PORT 1-65535, got \"" + kv + "\"");
      ports.push_back({{"name", kv.substr(0, eq)}, {"port", port}});
    }
    labels = KeyValueFlags(reg_labels, "--label", Pairs::kLabels);
    json spec = {{"external", {{"address", reg_address}, {"ports", ports}, {"sdk", !reg_no_sdk}}}};
    if (!reg_fleet.empty()) spec["fleet"] = reg_fleet;
    json gs = {{"apiVersion", "muster.dev/v1"},
               {"kind", "GameServer"},
               {"metadata", {{"name", name}, {"labels", labels}}},
               {"spec", spec}};
    api::HttpResult raw;
    auto out = client.Call(api::http::verb::post, "/v1/gameservers", gs.dump(), &raw);
    if (out) {
      auto outcome = raw.headers.find("muster-apply");  // created, configured or unchanged
      const bool created = outcome == raw.headers.end() || outcome->second == "created";
      std::cout << "gameserver/" << name << " "
                << (created ? "registered" : outcome->second + " (registered before)") << "\n";
    }
    rc = out ? 0 : 1;
  });

  app.add_subcommand("version", "Print Muster's version")->callback([] {
    std::cout << "muster 0.1.0\n";
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return rc == 1 && client.unreachable() ? kExitUnreachable : rc;
}

}  // namespace muster::app
