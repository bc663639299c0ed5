// manifest_check: reads what `kubectl kustomize` renders for an overlay of
// deploy/k8s and checks that it describes a mileage bank that would run:
//
//   manifest_check --rendered=production.yaml --shards=3
//       --sharded=membership,accrual,redemption --front_door=gateway
//       --autoscaled=gateway --state_owners=gateway-state
//       --local_configs=deploy/local --external_secrets=gateway-token-key
//
// - every document has apiVersion, kind, metadata.name, and sits in the one
//   Namespace rendered;
// - every workload's containers have an image, CPU and memory requests and
//   limits, gRPC startup, readiness and liveness probes on the port their
//   configuration serves gRPC on; every StatefulSet has volumeClaimTemplates
//   and a serviceName naming a Service that selects its pods; everything a
//   pod refers to (ConfigMaps, Secrets bar --external_secrets, volumes,
//   claims) exists;
// - each container's configuration, as the service will read it (the
//   ConfigMap/Secret files its command names, then its flags after
//   Kubernetes expands $(VAR) from its environment, for every pod ordinal),
//   parses as the service's config message (libs/server/config_loader's own
//   flag setter), listens where its container ports say, keeps its store on
//   a claimed volume, is shard k of shard_count = replicas on pod k, and
//   every *_target lists the pods of one StatefulSet, in ordinal order, on a
//   port its headless Service and containers have; apart from addresses,
//   it equals deploy/local's file for the service (--local_configs);
// - --sharded services run --shards pods with shard_count --shards;
// - a Deployment's pods share no volume, so its configuration keeps no
//   store: it names the StatefulSet that does in state_target, and it is not
//   sharded; every Deployment (and each --autoscaled one must be one) is
//   scaled by an autoscaling/v2 HorizontalPodAutoscaler on CPU and sets no
//   replicas itself; each --state_owners workload is a StatefulSet of one
//   pod that a Deployment's state_target names;
// - Services, Ingresses and PodDisruptionBudgets select or name what
//   exists, with ports that exist;
// - NetworkPolicies select pods that exist, deny ingress by default, let
//   every caller a configuration names reach its callee's port, open
//   nothing to every source but the --front_door workloads (also the only
//   ones behind an Ingress or a LoadBalancer), and open only metrics ports
//   to peers outside the rendered pods.
//
// Prints each problem on a line of its own and exits 1 when there is any.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/server/config_loader.h"
#include "mileagebank/config/v1/accrual.pb.h"
#include "mileagebank/config/v1/gateway.pb.h"
#include "mileagebank/config/v1/membership.pb.h"
#include "mileagebank/config/v1/redemption.pb.h"
#include "mileagebank/config/v1/reporting.pb.h"
#include "mileagebank/config/v1/settlement.pb.h"
#include "yaml-cpp/yaml.h"

namespace mileagebank::deploy {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using Labels = std::map<std::string, std::string>;

// The label the StatefulSet controller gives each pod (Kubernetes 1.28+):
// its ordinal.
constexpr char kPodIndexField[] =
    "metadata.labels['apps.kubernetes.io/pod-index']";

const std::map<std::string, const Message*>& ConfigPrototypes() {
  static const auto* prototypes = new std::map<std::string, const Message*>{
      {"membership", &config::v1::MembershipConfig::default_instance()},
      {"accrual", &config::v1::AccrualConfig::default_instance()},
      {"redemption", &config::v1::RedemptionConfig::default_instance()},
      {"settlement", &config::v1::SettlementConfig::default_instance()},
      {"reporting", &config::v1::ReportingConfig::default_instance()},
      {"gateway", &config::v1::GatewayConfig::default_instance()},
  };
  return *prototypes;
}

// The node at `path` under `node`, or an undefined one (false in a test,
// empty when iterated) when some step is missing. yaml-cpp throws when
// asked for a key of an undefined node, and adds keys through a non-const
// one, hence every look-up goes through here.
YAML::Node At(const YAML::Node& node, const char* const* key,
              const char* const* end) {
  static const YAML::Node* const kEmpty = new YAML::Node(YAML::NodeType::Map);
  if (key == end) return node;
  return At(node.IsDefined() && node.IsMap() ? node[*key] : (*kEmpty)[*key],
            key + 1, end);
}

YAML::Node At(const YAML::Node& node, std::initializer_list<const char*> path) {
  return At(node, path.begin(), path.end());
}

std::string Str(const YAML::Node& node) {
  return node && node.IsScalar() ? node.Scalar() : "";
}

int Int(const YAML::Node& node, int fallback) {
  int value;
  return absl::SimpleAtoi(Str(node), &value) ? value : fallback;
}

Labels LabelsOf(const YAML::Node& map) {
  Labels labels;
  if (map && map.IsMap()) {
    for (const auto& entry : map) labels[Str(entry.first)] = Str(entry.second);
  }
  return labels;
}

bool Selects(const Labels& selector, const Labels& labels) {
  for (const auto& [key, value] : selector) {
    auto found = labels.find(key);
    if (found == labels.end() || found->second != value) return false;
  }
  return true;
}

// "host:port" → host and port; false when it is not one.
bool SplitAddress(absl::string_view address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) return false;
  *host = std::string(address.substr(0, colon));
  return absl::SimpleAtoi(address.substr(colon + 1), port) && !host->empty();
}

class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    absl::StrAppend(&text, text.empty() ? "" : "; ", "line ", line + 1,
                    " column ", column + 1, ": ", message);
  }
  std::string text;
};

struct Options {
  std::string rendered;
  int shards = 1;
  std::vector<std::string> sharded;
  std::set<std::string> front_door;
  std::string local_configs;
  std::set<std::string> external_secrets;
  std::set<std::string> autoscaled;
  std::set<std::string> state_owners;
};

// A workload's pods: what the other objects select and address.
struct Workload {
  std::string kind;
  std::string name;
  YAML::Node object;
  YAML::Node pod_spec;
  Labels labels;
  int replicas = 1;
  std::set<std::string> claims;  // volumeClaimTemplates' names
};

// A caller's configuration names this port of the callee's pods.
struct Edge {
  const Workload* caller;
  const Workload* callee;
  int port;
};

class Checker {
 public:
  explicit Checker(Options options) : options_(std::move(options)) {}

  int Run() {
    if (!Load()) return Finish();
    CheckDocuments();
    IndexData();
    for (const Workload& workload : workloads_) CheckWorkload(workload);
    CheckServices();
    CheckIngresses();
    CheckDisruptionBudgets();
    for (const Workload& workload : workloads_) CheckConfiguration(workload);
    CheckUnusedConfigFiles();
    CheckShards();
    CheckAutoscalers();
    CheckStateOwners();
    CheckFrontDoor();
    CheckNetworkPolicies();
    return Finish();
  }

 private:
  void Error(std::string message) { errors_.push_back(std::move(message)); }

  int Finish() {
    for (const std::string& error : errors_) {
      std::printf("%s: %s\n", options_.rendered.c_str(), error.c_str());
    }
    if (!errors_.empty()) {
      std::printf("%s: %zu problems\n", options_.rendered.c_str(),
                  errors_.size());
      return 1;
    }
    std::printf(
        "%s: OK: %zu documents, %zu workloads, %zu configurations, %zu "
        "calls between workloads, each allowed by a NetworkPolicy\n",
        options_.rendered.c_str(), documents_.size(), workloads_.size(),
        configurations_, edges_.size());
    return 0;
  }

  const YAML::Node* Find(const std::string& kind, const std::string& name) {
    auto found = objects_.find({kind, name});
    return found == objects_.end() ? nullptr : &found->second;
  }

  std::vector<const Workload*> Selected(const Labels& selector) const {
    std::vector<const Workload*> selected;
    for (const Workload& workload : workloads_) {
      if (Selects(selector, workload.labels)) selected.push_back(&workload);
    }
    return selected;
  }

  bool Load() {
    try {
      std::ifstream file(options_.rendered);
      if (!file) {
        Error("cannot read the rendered manifests");
        return false;
      }
      documents_ = YAML::LoadAll(file);
    } catch (const YAML::Exception& error) {
      // yaml-cpp reports a malformed document only by throwing.
      Error(absl::StrCat("does not parse as YAML: ", error.what()));
      return false;
    }
    if (documents_.empty()) Error("no documents");
    return true;
  }

  void CheckDocuments() {
    std::vector<std::string> namespaces;
    for (size_t i = 0; i < documents_.size(); ++i) {
      const YAML::Node& document = documents_[i];
      const std::string where = absl::StrCat("document ", i + 1);
      if (!document.IsMap()) {
        Error(absl::StrCat(where, ": not a mapping"));
        continue;
      }
      const std::string api_version = Str(At(document, {"apiVersion"}));
      const std::string kind = Str(At(document, {"kind"}));
      const std::string name = Str(At(document, {"metadata", "name"}));
      if (api_version.empty() || kind.empty() || name.empty()) {
        Error(absl::StrCat(where, " (", kind, " ", name,
                           "): apiVersion, kind and metadata.name required"));
        continue;
      }
      if (!objects_.emplace(std::make_pair(kind, name), document).second) {
        Error(absl::StrCat(kind, " ", name, ": defined twice"));
      }
      if (kind == "Namespace") namespaces.push_back(name);
    }
    if (namespaces.size() != 1) {
      Error(absl::StrCat("expected one Namespace, found ", namespaces.size()));
      return;
    }
    for (const auto& [key, object] : objects_) {
      const std::string ns = Str(At(object, {"metadata", "namespace"}));
      if (key.first != "Namespace" && ns != namespaces[0]) {
        Error(absl::StrCat(key.first, " ", key.second,
                           ": metadata.namespace \"", ns, "\", not \"",
                           namespaces[0], "\""));
      }
    }
  }

  // ConfigMap and Secret contents, and the workloads.
  void IndexData() {
    for (const auto& [key, object] : objects_) {
      const auto& [kind, name] = key;
      if (kind == "ConfigMap") {
        for (const auto& entry : At(object, {"data"})) {
          data_[{kind, name}][Str(entry.first)] = Str(entry.second);
        }
      } else if (kind == "Secret") {
        for (const auto& entry : At(object, {"data"})) {
          std::string encoded = Str(entry.second), decoded;
          encoded.erase(std::remove_if(encoded.begin(), encoded.end(),
                                       absl::ascii_isspace),
                        encoded.end());
          if (!absl::Base64Unescape(encoded, &decoded)) {
            Error(absl::StrCat("Secret ", name, ": data.", Str(entry.first),
                               " is not base64"));
          }
          data_[{kind, name}][Str(entry.first)] = decoded;
        }
        for (const auto& entry : At(object, {"stringData"})) {
          data_[{kind, name}][Str(entry.first)] = Str(entry.second);
        }
      }
      const YAML::Node pod_spec = At(object, {"spec", "template", "spec"});
      if (!pod_spec) continue;
      Workload workload{
          kind,
          name,
          object,
          pod_spec,
          LabelsOf(At(object, {"spec", "template", "metadata", "labels"})),
          Int(At(object, {"spec", "replicas"}), 1)};
      const YAML::Node claims = At(object, {"spec", "volumeClaimTemplates"});
      if (claims && claims.IsSequence()) {
        for (const auto& claim : claims) {
          workload.claims.insert(Str(At(claim, {"metadata", "name"})));
        }
      }
      workloads_.push_back(std::move(workload));
    }
  }

  void CheckWorkload(const Workload& workload) {
    const std::string where = absl::StrCat(workload.kind, " ", workload.name);
    const YAML::Node& spec = At(workload.object, {"spec"});
    const Labels selector = LabelsOf(At(spec, {"selector", "matchLabels"}));
    if (selector.empty() || !Selects(selector, workload.labels)) {
      Error(absl::StrCat(where,
                         ": spec.selector.matchLabels must be set and "
                         "match the pod template's labels"));
    }
    if (workload.kind == "StatefulSet") {
      const YAML::Node claims = At(spec, {"volumeClaimTemplates"});
      if (!claims || !claims.IsSequence() || claims.size() == 0) {
        Error(absl::StrCat(where, ": volumeClaimTemplates required (a list)"));
      } else {
        for (const auto& claim : claims) {
          if (Str(At(claim, {"metadata", "name"})).empty() ||
              Str(At(claim, {"spec", "resources", "requests", "storage"}))
                  .empty()) {
            Error(absl::StrCat(where,
                               ": every volumeClaimTemplate needs "
                               "metadata.name and a storage request"));
          }
        }
      }
      const std::string service_name = Str(At(spec, {"serviceName"}));
      const YAML::Node* service = Find("Service", service_name);
      if (service == nullptr) {
        Error(absl::StrCat(where, ": serviceName \"", service_name,
                           "\" names no Service"));
      } else if (!Selects(LabelsOf(At((*service), {"spec", "selector"})),
                          workload.labels)) {
        Error(absl::StrCat(where, ": Service ", service_name,
                           " does not select its pods"));
      }
    }

    std::set<std::string> volumes = workload.claims;
    for (const auto& volume : At(workload.pod_spec, {"volumes"})) {
      const std::string name = Str(At(volume, {"name"}));
      volumes.insert(name);
      if (At(volume, {"configMap"})) {
        const std::string map = Str(At(volume, {"configMap", "name"}));
        if (Find("ConfigMap", map) == nullptr) {
          Error(absl::StrCat(where, ": volume ", name, ": no ConfigMap ", map));
        }
      }
      if (At(volume, {"secret"})) {
        const std::string secret = Str(At(volume, {"secret", "secretName"}));
        if (Find("Secret", secret) == nullptr &&
            !options_.external_secrets.count(secret)) {
          Error(absl::StrCat(where, ": volume ", name, ": no Secret ", secret));
        }
      }
    }
    const YAML::Node containers = At(workload.pod_spec, {"containers"});
    if (!containers || !containers.IsSequence() || containers.size() == 0) {
      Error(absl::StrCat(where, ": no containers"));
      return;
    }
    for (const auto& container : containers) {
      const std::string at =
          absl::StrCat(where, " container ", Str(At(container, {"name"})));
      if (Str(At(container, {"image"})).empty()) Error(at + ": image required");
      for (const char* bound : {"requests", "limits"}) {
        for (const char* resource : {"cpu", "memory"}) {
          if (Str(At(container, {"resources", bound, resource})).empty()) {
            Error(absl::StrCat(at, ": resources.", bound, ".", resource,
                               " required"));
          }
        }
      }
      std::set<int> ports;
      for (const auto& port : At(container, {"ports"})) {
        ports.insert(Int(At(port, {"containerPort"}), -1));
      }
      for (const char* probe :
           {"startupProbe", "readinessProbe", "livenessProbe"}) {
        const YAML::Node grpc = At(container, {probe, "grpc"});
        if (!grpc) {
          Error(absl::StrCat(at, ": ", probe, " must be a gRPC probe"));
        } else if (!ports.count(Int(At(grpc, {"port"}), -1))) {
          Error(absl::StrCat(at, ": ", probe, " port ", Str(At(grpc, {"port"})),
                             " is none of the container's ports"));
        }
      }
      for (const auto& mount : At(container, {"volumeMounts"})) {
        if (!volumes.count(Str(At(mount, {"name"})))) {
          Error(absl::StrCat(at, ": volumeMount ", Str(At(mount, {"name"})),
                             " names no volume or claim"));
        }
      }
      for (const auto& source : At(container, {"envFrom"})) {
        const std::string map = Str(At(source, {"configMapRef", "name"}));
        if (At(source, {"configMapRef"}) && Find("ConfigMap", map) == nullptr) {
          Error(absl::StrCat(at, ": envFrom: no ConfigMap ", map));
        }
      }
    }
  }

  // The container ports of `workload` named or numbered `port`.
  static std::vector<int> ContainerPorts(const Workload& workload,
                                         const std::string& port) {
    std::vector<int> found;
    int number = -1;
    const bool numeric = absl::SimpleAtoi(port, &number);
    for (const auto& container : At(workload.pod_spec, {"containers"})) {
      for (const auto& entry : At(container, {"ports"})) {
        const int container_port = Int(At(entry, {"containerPort"}), -1);
        if (numeric ? container_port == number
                    : Str(At(entry, {"name"})) == port) {
          found.push_back(container_port);
        }
      }
    }
    return found;
  }

  void CheckServices() {
    for (const auto& [key, object] : objects_) {
      if (key.first != "Service") continue;
      const std::string where = "Service " + key.second;
      const Labels selector = LabelsOf(At(object, {"spec", "selector"}));
      std::vector<const Workload*> pods = Selected(selector);
      if (selector.empty() || pods.empty()) {
        Error(where + ": selects no pods");
        continue;
      }
      for (const auto& port : At(object, {"spec", "ports"})) {
        const std::string target = At(port, {"targetPort"})
                                       ? Str(At(port, {"targetPort"}))
                                       : Str(At(port, {"port"}));
        for (const Workload* pod : pods) {
          if (ContainerPorts(*pod, target).empty()) {
            Error(absl::StrCat(where, ": port ", Str(At(port, {"port"})),
                               " (target ", target, ") is not a port of ",
                               pod->kind, " ", pod->name));
          }
        }
      }
    }
  }

  // Whether Service `name` has port `number` (or named `number`).
  bool ServiceHasPort(const std::string& name, const std::string& port) {
    const YAML::Node* service = Find("Service", name);
    if (service == nullptr) return false;
    for (const auto& entry : At((*service), {"spec", "ports"})) {
      if (Str(At(entry, {"port"})) == port || Str(At(entry, {"name"})) == port)
        return true;
    }
    return false;
  }

  void CheckIngresses() {
    for (const auto& [key, object] : objects_) {
      if (key.first != "Ingress") continue;
      std::vector<YAML::Node> backends;
      if (At(object, {"spec", "defaultBackend"})) {
        backends.push_back(At(object, {"spec", "defaultBackend"}));
      }
      for (const auto& rule : At(object, {"spec", "rules"})) {
        for (const auto& path : At(rule, {"http", "paths"})) {
          backends.push_back(At(path, {"backend"}));
        }
      }
      for (const YAML::Node& backend : backends) {
        const std::string service = Str(At(backend, {"service", "name"}));
        const YAML::Node port = At(backend, {"service", "port"});
        const std::string number = At(port, {"number"})
                                       ? Str(At(port, {"number"}))
                                       : Str(At(port, {"name"}));
        if (!ServiceHasPort(service, number)) {
          Error(absl::StrCat("Ingress ", key.second, ": backend ", service, ":",
                             number, " is no Service's port"));
        }
        front_door_services_.insert(service);
      }
    }
  }

  void CheckDisruptionBudgets() {
    std::set<const Workload*> covered;
    for (const auto& [key, object] : objects_) {
      if (key.first != "PodDisruptionBudget") continue;
      std::vector<const Workload*> pods =
          Selected(LabelsOf(At(object, {"spec", "selector", "matchLabels"})));
      if (pods.empty()) {
        Error("PodDisruptionBudget " + key.second + ": selects no pods");
      }
      covered.insert(pods.begin(), pods.end());
    }
    for (const Workload& workload : workloads_) {
      if (!covered.count(&workload)) {
        Error(absl::StrCat(workload.kind, " ", workload.name,
                           ": no PodDisruptionBudget"));
      }
    }
  }

  // The container's environment on pod `ordinal`, as Kubernetes sets it.
  std::map<std::string, std::string> Environment(const Workload& workload,
                                                 const YAML::Node& container,
                                                 int ordinal,
                                                 const std::string& at) {
    std::map<std::string, std::string> env;
    for (const auto& source : At(container, {"envFrom"})) {
      auto data =
          data_.find({"ConfigMap", Str(At(source, {"configMapRef", "name"}))});
      if (data == data_.end()) continue;  // Reported by CheckWorkload.
      for (const auto& [key, value] : data->second) env[key] = value;
    }
    for (const auto& variable : At(container, {"env"})) {
      const std::string name = Str(At(variable, {"name"}));
      if (At(variable, {"value"})) {
        env[name] = Str(At(variable, {"value"}));
        continue;
      }
      const std::string field =
          Str(At(variable, {"valueFrom", "fieldRef", "fieldPath"}));
      if (field == kPodIndexField && workload.kind == "StatefulSet") {
        env[name] = absl::StrCat(ordinal);
      } else if (field == "metadata.name") {
        env[name] = absl::StrCat(workload.name, "-", ordinal);
      } else {
        Error(absl::StrCat(at, ": env ", name,
                           ": only a value, metadata.name or (in a "
                           "StatefulSet) the pod-index label are understood"));
      }
    }
    return env;
  }

  // `text` with each $(NAME) replaced from `env`, as Kubernetes expands
  // command and args.
  std::string Expand(const std::string& text,
                     const std::map<std::string, std::string>& env,
                     const std::string& at) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
      size_t start = text.find("$(", i);
      if (start == std::string::npos) break;
      size_t end = text.find(')', start);
      if (end == std::string::npos) break;
      out += text.substr(i, start - i);
      const std::string name = text.substr(start + 2, end - start - 2);
      auto found = env.find(name);
      if (found == env.end()) {
        Error(absl::StrCat(at, ": $(", name, ") is not in the environment"));
        out += text.substr(start, end + 1 - start);
      } else {
        out += found->second;
      }
      i = end + 1;
    }
    return out + text.substr(std::min(i, text.size()));
  }

  void CheckConfiguration(const Workload& workload) {
    for (const auto& container : At(workload.pod_spec, {"containers"})) {
      const std::string service = Str(At(container, {"name"}));
      const std::string at = absl::StrCat(workload.kind, " ", workload.name,
                                          " container ", service);
      auto prototype = ConfigPrototypes().find(service);
      if (prototype == ConfigPrototypes().end()) {
        Error(at + ": no configuration message for a container of this name");
        continue;
      }
      // The files of its ConfigMap and Secret volumes, by path.
      std::map<std::string, std::pair<std::string, std::string>> files;
      for (const auto& mount : At(container, {"volumeMounts"})) {
        for (const auto& volume : At(workload.pod_spec, {"volumes"})) {
          if (Str(At(volume, {"name"})) != Str(At(mount, {"name"})) ||
              !(At(volume, {"configMap"}) || At(volume, {"secret"}))) {
            continue;
          }
          std::pair<std::string, std::string> source =
              At(volume, {"configMap"})
                  ? std::make_pair("ConfigMap",
                                   Str(At(volume, {"configMap", "name"})))
                  : std::make_pair("Secret",
                                   Str(At(volume, {"secret", "secretName"})));
          for (const auto& [key, text] : data_[source]) {
            files[absl::StrCat(Str(At(mount, {"mountPath"})), "/", key)] = {
                absl::StrCat(source.first, " ", source.second, " ", key), text};
          }
        }
      }
      // The service reads the files its command line names, in that order
      // (a shell may concatenate several: textproto files merge).
      std::string command_line;
      for (const char* part : {"command", "args"}) {
        for (const auto& word : At(container, {part})) {
          absl::StrAppend(&command_line, Str(word), " ");
        }
      }
      std::vector<std::pair<size_t, std::string>> read;
      for (const auto& [path, file] : files) {
        size_t position = command_line.find(path);
        if (position == std::string::npos) continue;
        read.push_back({position, path});
        used_files_.insert(file.first);
      }
      std::sort(read.begin(), read.end());
      if (read.empty()) {
        Error(at + ": its command line names no ConfigMap or Secret file");
        continue;
      }
      std::string text;
      std::vector<std::string> sources;
      for (const auto& [position, path] : read) {
        absl::StrAppend(&text, files[path].second, "\n");
        sources.push_back(files[path].first);
      }
      std::unique_ptr<Message> file_config(prototype->second->New());
      google::protobuf::TextFormat::Parser parser;
      ErrorCollector parse_errors;
      parser.RecordErrorsTo(&parse_errors);
      if (!parser.ParseFromString(text, file_config.get())) {
        Error(absl::StrCat(at, ": ", absl::StrJoin(sources, " + "),
                           " does not parse as ",
                           file_config->GetDescriptor()->full_name(), ": ",
                           parse_errors.text));
        continue;
      }
      ++configurations_;
      CompareWithLocal(service, *file_config, at);

      // A Deployment's pods are alike, however many the autoscaler runs.
      const int replicas =
          workload.kind == "StatefulSet" ? workload.replicas : 1;
      for (int ordinal = 0; ordinal < replicas; ++ordinal) {
        std::unique_ptr<Message> config(file_config->New());
        config->CopyFrom(*file_config);
        const std::map<std::string, std::string> env =
            Environment(workload, container, ordinal, at);
        const std::string pod = absl::StrCat(at, " pod ", ordinal);
        for (const auto& word : At(container, {"args"})) {
          const std::string arg = Expand(Str(word), env, pod);
          size_t equals = arg.find('=');
          if (!absl::StartsWith(arg, "--") || equals == std::string::npos) {
            Error(absl::StrCat(pod, ": argument \"", arg,
                               "\" is not --name=value"));
            continue;
          }
          const std::string name = arg.substr(2, equals - 2);
          const std::string value = arg.substr(equals + 1);
          if (name == "config") {
            if (!files.count(value)) {
              Error(absl::StrCat(pod, ": --config=", value,
                                 " is no ConfigMap or Secret file"));
            }
            continue;
          }
          absl::Status set = server::SetField(config.get(), name, value);
          if (!set.ok()) Error(absl::StrCat(pod, ": ", set.message()));
        }
        CheckEffectiveConfig(workload, container, *config, ordinal, pod);
      }
    }
  }

  void CompareWithLocal(const std::string& service, const Message& config,
                        const std::string& at) {
    if (options_.local_configs.empty()) return;
    const std::string path =
        absl::StrCat(options_.local_configs, "/", service, ".textproto");
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    std::unique_ptr<Message> local(config.New());
    if (!file || !google::protobuf::TextFormat::ParseFromString(text.str(),
                                                                local.get())) {
      Error(absl::StrCat(at, ": cannot read ", path, " to compare with"));
      return;
    }
    std::unique_ptr<Message> ours(config.New());
    ours->CopyFrom(config);
    // Addresses and what only a Kubernetes pod has differ by design.
    for (Message* message : {local.get(), ours.get()}) {
      const google::protobuf::Descriptor* descriptor = message->GetDescriptor();
      for (int i = 0; i < descriptor->field_count(); ++i) {
        const FieldDescriptor* field = descriptor->field(i);
        if (field->name() == "server" || field->name() == "portal_dir" ||
            field->name() == "api_keys" ||
            absl::EndsWith(field->name(), "_target") ||
            absl::EndsWith(field->name(), "_address")) {
          message->GetReflection()->ClearField(message, field);
        }
      }
    }
    std::string differences;
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&differences);
    if (!differencer.Compare(*local, *ours)) {
      Error(absl::StrCat(at, ": differs from ", path,
                         " beyond addresses: ", differences));
    }
  }

  static int NamedPort(const YAML::Node& container, const std::string& name) {
    for (const auto& port : At(container, {"ports"})) {
      if (Str(At(port, {"name"})) == name)
        return Int(At(port, {"containerPort"}), -1);
    }
    return -1;
  }

  void CheckEffectiveConfig(const Workload& workload,
                            const YAML::Node& container, const Message& config,
                            int ordinal, const std::string& at) {
    const google::protobuf::Descriptor* descriptor = config.GetDescriptor();
    const google::protobuf::Reflection* reflection = config.GetReflection();
    const auto& server = static_cast<const config::v1::ServerConfig&>(
        reflection->GetMessage(config, descriptor->FindFieldByName("server")));

    // It listens where the Services and probes look for it.
    std::vector<std::pair<std::string, std::string>> listeners = {
        {"server.listen_address", server.listen_address()},
        {"server.metrics_address", server.metrics_address()}};
    if (const FieldDescriptor* http =
            descriptor->FindFieldByName("http_listen_address")) {
      listeners.push_back(
          {"http_listen_address", reflection->GetString(config, http)});
    }
    const std::map<std::string, std::string> port_names = {
        {"server.listen_address", "grpc"},
        {"server.metrics_address", "metrics"},
        {"http_listen_address", "http"}};
    for (const auto& [field, address] : listeners) {
      std::string host;
      int port;
      const int expected = NamedPort(container, port_names.at(field));
      if (!SplitAddress(address, &host, &port) || port != expected ||
          (host != "0.0.0.0" && host != "[::]")) {
        Error(absl::StrCat(at, ": ", field, " \"", address,
                           "\" must be 0.0.0.0 on the container port named ",
                           port_names.at(field), " (", expected, ")"));
      }
    }
    if (ordinal == 0) {
      const int grpc_port = NamedPort(container, "grpc");
      for (const char* probe :
           {"startupProbe", "readinessProbe", "livenessProbe"}) {
        if (At(container, {probe, "grpc"}) &&
            Int(At(container, {probe, "grpc", "port"}), -1) != grpc_port) {
          Error(absl::StrCat(at, ": ", probe,
                             " must ask the gRPC port for its health"));
        }
      }
    }

    // A Deployment keeps no store: its state is a StatefulSet's.
    if (workload.kind != "StatefulSet") {
      const FieldDescriptor* state =
          descriptor->FindFieldByName("state_target");
      if (state == nullptr || reflection->GetString(config, state).empty()) {
        Error(absl::StrCat(at,
                           ": a Deployment's pods share no volume, so its "
                           "configuration must keep no store (state_target "
                           "naming the StatefulSet that does)"));
      }
      if (server.shard_count() > 1) {
        Error(absl::StrCat(at, ": server.shard_count ", server.shard_count(),
                           " in a Deployment (shards are StatefulSet pods)"));
      }
    } else {
      CheckStoreAndShard(workload, container, server, ordinal, at);
    }

    // Each *_target lists one StatefulSet's pods in ordinal order.
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const FieldDescriptor* field = descriptor->field(i);
      if (!absl::EndsWith(field->name(), "_target") ||
          field->type() != FieldDescriptor::TYPE_STRING) {
        continue;
      }
      const std::string value = reflection->GetString(config, field);
      if (value.empty()) continue;
      CheckTargets(workload, field->name(), value, ordinal, at);
    }
  }

  // A StatefulSet pod's store is on its own volume, and pod k is shard k.
  void CheckStoreAndShard(const Workload& workload, const YAML::Node& container,
                          const config::v1::ServerConfig& server, int ordinal,
                          const std::string& at) {
    bool on_claim = false;
    for (const auto& mount : At(container, {"volumeMounts"})) {
      const std::string path = Str(At(mount, {"mountPath"}));
      if (workload.claims.count(Str(At(mount, {"name"}))) &&
          (server.data_dir() == path ||
           absl::StartsWith(server.data_dir(), path + "/"))) {
        on_claim = true;
      }
    }
    if (!on_claim) {
      Error(absl::StrCat(at, ": server.data_dir \"", server.data_dir(),
                         "\" is on no volumeClaimTemplate's volume"));
    }

    // Pod k is shard k of as many as there are pods.
    const int shard_count = std::max(1, server.shard_count());
    if (shard_count != workload.replicas) {
      Error(absl::StrCat(at, ": server.shard_count ", shard_count, " but ",
                         workload.replicas,
                         " replicas (each pod has a store "
                         "of its own, so every pod must be a shard)"));
    } else if (server.shard_index() != ordinal) {
      Error(absl::StrCat(at, ": server.shard_index ", server.shard_index(),
                         " on pod ", ordinal));
    }
    if (ordinal == 0) shard_counts_[&workload] = shard_count;
  }

  void CheckTargets(const Workload& caller, const std::string& field,
                    const std::string& value, int ordinal,
                    const std::string& at) {
    const std::string where = absl::StrCat(at, ": ", field, " \"", value, "\"");
    std::vector<std::string> addresses = absl::StrSplit(value, ',');
    const Workload* callee = nullptr;
    int callee_port = -1;
    for (size_t k = 0; k < addresses.size(); ++k) {
      std::string host;
      int port;
      if (!SplitAddress(addresses[k], &host, &port)) {
        Error(absl::StrCat(where, ": \"", addresses[k], "\" is not host:port"));
        return;
      }
      // <pod>.<service>[.<namespace>[.svc[.cluster.local]]]
      std::vector<std::string> labels = absl::StrSplit(host, '.');
      const YAML::Node* service =
          labels.size() >= 2 ? Find("Service", labels[1]) : nullptr;
      if (service == nullptr ||
          Str(At((*service), {"spec", "clusterIP"})) != "None") {
        Error(absl::StrCat(where, ": \"", host,
                           "\" is not <pod>.<headless Service>"));
        return;
      }
      const Workload* owner = nullptr;
      for (const Workload& workload : workloads_) {
        if (workload.kind == "StatefulSet" &&
            Str(At(workload.object, {"spec", "serviceName"})) == labels[1] &&
            labels[0] == absl::StrCat(workload.name, "-", k)) {
          owner = &workload;
        }
      }
      if (owner == nullptr || (callee != nullptr && owner != callee)) {
        Error(absl::StrCat(where, ": entry ", k, " must be pod ", k,
                           " of one StatefulSet governed by Service ",
                           labels[1]));
        return;
      }
      callee = owner;
      if (!ServiceHasPort(labels[1], absl::StrCat(port)) ||
          ContainerPorts(*owner, absl::StrCat(port)).empty()) {
        Error(absl::StrCat(where, ": port ", port, " is not a port of Service ",
                           labels[1], " and its pods"));
      }
      callee_port = port;
    }
    if (callee != nullptr &&
        static_cast<int>(addresses.size()) != callee->replicas) {
      Error(absl::StrCat(where, ": names ", addresses.size(), " pods of ",
                         callee->name, ", which has ", callee->replicas));
    }
    if (callee != nullptr && ordinal == 0) {
      edges_.push_back({&caller, callee, callee_port});
    }
  }

  void CheckUnusedConfigFiles() {
    for (const auto& [source, files] : data_) {
      for (const auto& [key, text] : files) {
        const std::string file =
            absl::StrCat(source.first, " ", source.second, " ", key);
        if (absl::EndsWith(key, ".textproto") && !used_files_.count(file)) {
          Error(file + ": read by no container");
        }
      }
    }
  }

  void CheckShards() {
    for (const std::string& name : options_.sharded) {
      auto workload = std::find_if(
          workloads_.begin(), workloads_.end(), [&](const Workload& w) {
            return w.kind == "StatefulSet" && w.name == name;
          });
      if (workload == workloads_.end()) {
        Error("StatefulSet " + name + ": missing (a sharded service)");
        continue;
      }
      if (workload->replicas != options_.shards ||
          shard_counts_[&*workload] != options_.shards) {
        Error(absl::StrCat("StatefulSet ", name, ": ", workload->replicas,
                           " replicas and shard_count ",
                           shard_counts_[&*workload], ", expected ",
                           options_.shards, " of each"));
      }
    }
  }

  // Deployments are scaled by an autoscaler of their own, on CPU.
  void CheckAutoscalers() {
    std::set<std::string> scaled;
    for (const auto& [key, object] : objects_) {
      if (key.first != "HorizontalPodAutoscaler") continue;
      const std::string where = "HorizontalPodAutoscaler " + key.second;
      const YAML::Node spec = At(object, {"spec"});
      if (Str(At(object, {"apiVersion"})) != "autoscaling/v2") {
        Error(where + ": apiVersion must be autoscaling/v2");
      }
      const std::string kind = Str(At(spec, {"scaleTargetRef", "kind"}));
      const std::string name = Str(At(spec, {"scaleTargetRef", "name"}));
      if (kind != "Deployment" || Find("Deployment", name) == nullptr) {
        Error(absl::StrCat(where, ": scaleTargetRef ", kind, " ", name,
                           " is no Deployment"));
      } else if (!scaled.insert(name).second) {
        Error(absl::StrCat(where, ": Deployment ", name,
                           " has another autoscaler"));
      }
      const int min_replicas = Int(At(spec, {"minReplicas"}), 1);
      const int max_replicas = Int(At(spec, {"maxReplicas"}), 0);
      if (min_replicas < 1 || max_replicas < min_replicas) {
        Error(absl::StrCat(where, ": minReplicas ", min_replicas,
                           " and maxReplicas ", max_replicas,
                           " (need 1 <= min <= max)"));
      }
      bool on_cpu = false;
      for (const auto& metric : At(spec, {"metrics"})) {
        on_cpu |= Str(At(metric, {"type"})) == "Resource" &&
                  Str(At(metric, {"resource", "name"})) == "cpu" &&
                  Int(At(metric, {"resource", "target", "averageUtilization"}),
                      0) > 0;
      }
      if (!on_cpu) {
        Error(where +
              ": needs a Resource metric on cpu with an "
              "averageUtilization target");
      }
    }
    for (const Workload& workload : workloads_) {
      if (workload.kind != "Deployment") continue;
      if (!scaled.count(workload.name)) {
        Error("Deployment " + workload.name +
              ": no HorizontalPodAutoscaler targets it");
      }
      if (At(workload.object, {"spec", "replicas"})) {
        Error("Deployment " + workload.name +
              ": sets spec.replicas, which its autoscaler owns");
      }
    }
    for (const std::string& name : options_.autoscaled) {
      if (Find("Deployment", name) == nullptr) {
        Error("Deployment " + name + ": missing (an autoscaled workload)");
      }
    }
  }

  // The StatefulSets that keep a Deployment's state.
  void CheckStateOwners() {
    for (const std::string& name : options_.state_owners) {
      auto owner = std::find_if(
          workloads_.begin(), workloads_.end(), [&](const Workload& w) {
            return w.kind == "StatefulSet" && w.name == name;
          });
      if (owner == workloads_.end()) {
        Error("StatefulSet " + name + ": missing (a state owner)");
        continue;
      }
      if (owner->replicas != 1) {
        Error(absl::StrCat("StatefulSet ", name, ": ", owner->replicas,
                           " replicas; a state owner is one pod"));
      }
      const bool followed =
          std::any_of(edges_.begin(), edges_.end(), [&](const Edge& edge) {
            return edge.callee == &*owner && edge.caller->kind == "Deployment";
          });
      if (!followed) {
        Error("StatefulSet " + name +
              ": no Deployment's state_target names it");
      }
    }
  }

  // The workloads that outside clients reach: behind an Ingress, or a
  // LoadBalancer or NodePort Service.
  void CheckFrontDoor() {
    for (const auto& [key, object] : objects_) {
      const std::string type = Str(At(object, {"spec", "type"}));
      if (key.first == "Service" &&
          (type == "LoadBalancer" || type == "NodePort")) {
        front_door_services_.insert(key.second);
      }
    }
    for (const std::string& name : front_door_services_) {
      const YAML::Node* service = Find("Service", name);
      if (service == nullptr) continue;  // Reported with its Ingress.
      for (const Workload* pod :
           Selected(LabelsOf(At((*service), {"spec", "selector"})))) {
        if (!options_.front_door.count(pod->name)) {
          Error(absl::StrCat("Service ", name, " exposes ", pod->kind, " ",
                             pod->name, " outside the cluster"));
        }
      }
    }
  }

  // Whether a NetworkPolicy port entry covers container port `port`.
  static bool Covers(const YAML::Node& entry, const Workload& pod, int port) {
    const std::string value = Str(At(entry, {"port"}));
    int first;
    if (!absl::SimpleAtoi(value, &first)) {
      const std::vector<int> named = ContainerPorts(pod, value);
      return std::find(named.begin(), named.end(), port) != named.end();
    }
    const int last = Int(At(entry, {"endPort"}), first);
    return port >= first && port <= last;
  }

  // The rendered pods a rule's peers select within the namespace.
  std::set<const Workload*> InsidePeers(const YAML::Node& rule) const {
    std::set<const Workload*> peers;
    for (const auto& peer : At(rule, {"from"})) {
      if (!At(peer, {"podSelector"}) || At(peer, {"namespaceSelector"}))
        continue;
      for (const Workload* pod :
           Selected(LabelsOf(At(peer, {"podSelector", "matchLabels"})))) {
        peers.insert(pod);
      }
    }
    return peers;
  }

  static bool RuleCovers(const YAML::Node& rule, const Workload& pod,
                         int port) {
    bool covered = !At(rule, {"ports"}) || At(rule, {"ports"}).size() == 0;
    for (const auto& entry : At(rule, {"ports"})) {
      covered |= Covers(entry, pod, port);
    }
    return covered;
  }

  bool Calls(const Workload* caller, const Workload* callee, int port) const {
    for (const Edge& edge : edges_) {
      if (edge.caller == caller && edge.callee == callee && edge.port == port) {
        return true;
      }
    }
    return false;
  }

  void CheckNetworkPolicies() {
    bool default_deny = false;
    std::vector<std::pair<std::vector<const Workload*>, YAML::Node>> rules;
    for (const auto& [key, object] : objects_) {
      if (key.first != "NetworkPolicy") continue;
      const std::string where = "NetworkPolicy " + key.second;
      const YAML::Node spec = At(object, {"spec"});
      std::vector<const Workload*> pods =
          Selected(LabelsOf(At(spec, {"podSelector", "matchLabels"})));
      if (pods.empty()) Error(where + ": selects no pods");
      bool ingress_type = false;
      for (const auto& type : At(spec, {"policyTypes"})) {
        ingress_type |= Str(type) == "Ingress";
      }
      if (!ingress_type) Error(where + ": policyTypes must list Ingress");
      if (!At(spec, {"ingress"}) || At(spec, {"ingress"}).size() == 0) {
        default_deny |= ingress_type && pods.size() == workloads_.size();
      }
      for (const auto& rule : At(spec, {"ingress"})) {
        rules.push_back({pods, rule});
        CheckRulePeers(where, pods, rule);
        // Within the namespace, a service's port is open only to its
        // callers (metrics ports are Prometheus's, checked above).
        for (const Workload* pod : pods) {
          for (const auto& container : At(pod->pod_spec, {"containers"})) {
            for (const auto& port : At(container, {"ports"})) {
              const int number = Int(At(port, {"containerPort"}), -1);
              if (Str(At(port, {"name"})) == "metrics" ||
                  !RuleCovers(rule, *pod, number)) {
                continue;
              }
              for (const Workload* peer : InsidePeers(rule)) {
                if (!Calls(peer, pod, number)) {
                  Error(absl::StrCat(where, ": lets ", peer->name, " reach ",
                                     pod->name, "'s port ", number,
                                     ", which its configuration never calls"));
                }
              }
            }
          }
        }
      }
    }
    if (!default_deny) {
      Error("no NetworkPolicy denies ingress to every pod by default");
    }
    for (const Edge& edge : edges_) {
      bool allowed = false;
      for (const auto& [pods, rule] : rules) {
        allowed |=
            std::find(pods.begin(), pods.end(), edge.callee) != pods.end() &&
            InsidePeers(rule).count(edge.caller) &&
            RuleCovers(rule, *edge.callee, edge.port);
      }
      if (!allowed) {
        Error(absl::StrCat(edge.caller->name, " calls ", edge.callee->name,
                           " on port ", edge.port,
                           " but no NetworkPolicy lets it"));
      }
    }
  }

  // Ports a rule opens beyond the namespace's pods: every port only for the
  // front door, otherwise only metrics ports; and its ports exist.
  void CheckRulePeers(const std::string& where,
                      const std::vector<const Workload*>& pods,
                      const YAML::Node& rule) {
    bool outside = !At(rule, {"from"}) || At(rule, {"from"}).size() == 0;
    for (const auto& peer : At(rule, {"from"})) {
      if (At(peer, {"ipBlock"}) || At(peer, {"namespaceSelector"}) ||
          Selected(LabelsOf(At(peer, {"podSelector", "matchLabels"})))
              .empty()) {
        outside = true;
      }
    }
    const bool to_everyone =
        !At(rule, {"from"}) || At(rule, {"from"}).size() == 0;
    for (const Workload* pod : pods) {
      if (to_everyone && !options_.front_door.count(pod->name)) {
        Error(absl::StrCat(where, ": opens ", pod->name, " to every source"));
      }
    }
    if (!At(rule, {"ports"}) || At(rule, {"ports"}).size() == 0) {
      if (outside && !to_everyone) {
        Error(where + ": opens every port to peers outside the namespace");
      }
      return;
    }
    for (const auto& entry : At(rule, {"ports"})) {
      bool exists = false;
      for (const Workload* pod : pods) {
        for (const auto& container : At(pod->pod_spec, {"containers"})) {
          for (const auto& port : At(container, {"ports"})) {
            const int number = Int(At(port, {"containerPort"}), -1);
            if (!Covers(entry, *pod, number)) continue;
            exists = true;
            if (outside && !to_everyone &&
                Str(At(port, {"name"})) != "metrics") {
              Error(absl::StrCat(where, ": opens ", pod->name, "'s port ",
                                 number,
                                 " (not metrics) outside the "
                                 "namespace's pods"));
            }
          }
        }
      }
      if (!exists) {
        Error(absl::StrCat(where, ": port ", Str(At(entry, {"port"})),
                           " is no port of the pods it selects"));
      }
    }
  }

  Options options_;
  std::vector<std::string> errors_;
  std::vector<YAML::Node> documents_;
  std::map<std::pair<std::string, std::string>, YAML::Node> objects_;
  // (ConfigMap|Secret, name) → key → text.
  std::map<std::pair<std::string, std::string>,
           std::map<std::string, std::string>>
      data_;
  std::vector<Workload> workloads_;  // Not resized after IndexData.
  std::set<std::string> used_files_;
  std::set<std::string> front_door_services_;
  std::map<const Workload*, int> shard_counts_;
  std::vector<Edge> edges_;
  size_t configurations_ = 0;
};

std::set<std::string> SplitSet(absl::string_view text) {
  return absl::StrSplit(text, ',', absl::SkipEmpty());
}

}  // namespace
}  // namespace mileagebank::deploy

int main(int argc, char** argv) {
  mileagebank::deploy::Options options;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    std::pair<std::string, std::string> flag =
        absl::StrSplit(arg, absl::MaxSplits('=', 1));
    if (flag.first == "--rendered") {
      options.rendered = flag.second;
    } else if (flag.first == "--shards" &&
               absl::SimpleAtoi(flag.second, &options.shards)) {
    } else if (flag.first == "--sharded") {
      options.sharded = absl::StrSplit(flag.second, ',', absl::SkipEmpty());
    } else if (flag.first == "--front_door") {
      options.front_door = mileagebank::deploy::SplitSet(flag.second);
    } else if (flag.first == "--local_configs") {
      options.local_configs = flag.second;
    } else if (flag.first == "--autoscaled") {
      options.autoscaled = mileagebank::deploy::SplitSet(flag.second);
    } else if (flag.first == "--state_owners") {
      options.state_owners = mileagebank::deploy::SplitSet(flag.second);
    } else if (flag.first == "--external_secrets") {
      options.external_secrets = mileagebank::deploy::SplitSet(flag.second);
    } else {
      std::fprintf(stderr, "manifest_check: unknown or bad flag %s\n", argv[i]);
      return 2;
    }
  }
  if (options.rendered.empty()) {
    std::fprintf(stderr, "manifest_check: --rendered=FILE required\n");
    return 2;
  }
  return mileagebank::deploy::Checker(std::move(options)).Run();
}
