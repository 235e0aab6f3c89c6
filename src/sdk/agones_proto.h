// Muster's model in the Agones SDK's messages, and the gateway's JSON rules, shared
// by the gRPC services and the REST gateway so that both say the same thing.
#pragma once

#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "agones/alpha.pb.h"
#include "agones/beta.pb.h"
#include "agones/sdk.pb.h"
#include "core/model.h"
#include "core/sdk_ops.h"

namespace muster::sdk {

namespace pb = ::agones::dev::sdk;

void ToProto(const core::GameServer& gs, pb::GameServer* out);
void ToProto(const std::string& name, const core::CounterStatus& c, pb::beta::Counter* out);
void ToProto(const std::string& name, const core::ListStatus& l, pb::beta::List* out);

// What an UpdateList changes: the fields of `list` that `paths` names ("capacity",
// "values"). An empty mask applies the fields that are set (non-default), as Agones'
// local SDK server does: the Node.js client sends an empty mask. Another path is
// InvalidArgument (field "update_mask").
core::StatusOr<core::ListUpdate> ListUpdateFor(const pb::beta::List& list,
                                               const std::vector<std::string>& paths);

// The gateway's JSON: proto field names, int64 as strings, unset fields emitted.
std::string GatewayJson(const google::protobuf::Message& m);
// Parses a request body by the gateway's rules (unknown fields ignored; int64 as a
// string or a number). An empty body reads as `{}`. InvalidArgument names the body.
core::Status ParseGatewayJson(const std::string& body, google::protobuf::Message* m);

}  // namespace muster::sdk
