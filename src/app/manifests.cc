#include "app/manifests.h"

#include <fstream>
#include <future>
#include <iostream>
#include <sstream>

#include "codec/json_codec.h"
#include "codec/yaml.h"

namespace muster::app {

std::string Describe(const core::Status& status) {
  if (status.problems().size() > 1) {
    std::string out = "invalid:";
    for (const auto& p : status.problems()) out += "\n  " + p.field + ": " + p.message;
    return out;
  }
  if (!status.field().empty()) return status.field() + ": " + status.message();
  return status.message();
}

core::StatusOr<std::vector<ManifestObject>> ReadManifests(const std::string& file) {
  std::stringstream text;
  if (file == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(file);
    if (!in) return core::NotFound("cannot read " + file);
    text << in.rdbuf();
  }
  auto docs = codec::ParseDocuments(text.str());
  if (!docs.ok()) return docs.status();
  std::vector<ManifestObject> out;
  for (size_t i = 0; i < docs->size(); ++i) {
    auto& doc = (*docs)[i];
    auto kind = codec::ManifestKind(doc);
    if (!kind.ok())
      return core::InvalidArgument(
          "document " + std::to_string(i + 1) + ": " + kind.status().message(),
          kind.status().field());
    std::string name;
    if (doc.contains("metadata") && doc["metadata"].is_object() &&
        doc["metadata"].contains("name") && doc["metadata"]["name"].is_string())
      name = doc["metadata"]["name"];
    out.push_back({*kind, name, std::move(doc)});
  }
  return out;
}

int ApplyFile(const std::string& file, const ApplyFn& apply) {
  auto manifests = ReadManifests(file);
  if (!manifests.ok()) {
    std::cerr << "error: " << file << ": " << Describe(manifests.status()) << "\n";
    return 1;
  }
  int rc = 0;
  for (const auto& m : *manifests) {
    std::string id = (m.kind == "Fleet" ? "fleet/" : "gameserver/") + m.name;
    auto result = apply(m);
    if (result.ok()) {
      std::cout << id << " " << *result << std::endl;
    } else {
      std::cerr << "error: " << id << ": " << Describe(result.status()) << "\n";
      rc = 1;
    }
  }
  return rc;
}

core::StatusOr<std::string> ApplyInProcess(control::Controller& controller,
                                           const ManifestObject& m) {
  std::promise<core::StatusOr<std::string>> result;
  auto verdict = [&result](control::ApplyOutcome outcome) {
    result.set_value(std::string(control::ApplyOutcomeName(outcome)));
  };
  if (m.kind == "Fleet") {
    auto fleet = codec::DecodeFleet(m.doc);
    if (!fleet.ok()) return fleet.status();
    controller.ApplyFleet(std::move(*fleet), [&](core::StatusOr<control::Applied<core::Fleet>> r) {
      if (!r.ok()) return result.set_value(r.status());
      verdict(r->outcome);
    });
  } else {
    auto gs = codec::DecodeGameServer(m.doc);
    if (!gs.ok()) return gs.status();
    controller.ApplyGameServer(std::move(*gs),
                               [&](core::StatusOr<control::Applied<core::GameServer>> r) {
                                 if (!r.ok()) return result.set_value(r.status());
                                 verdict(r->outcome);
                               });
  }
  return result.get_future().get();
}

}  // namespace muster::app
