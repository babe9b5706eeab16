# One service account per workload, each with only the roles its code uses. Resource-scoped
# bindings (a topic, a dataset, a bucket, a secret) are preferred to project-wide ones.
locals {
  accounts = {
    functions = "Cloud Functions (HTTP API and event handlers)"
    invoker   = "Eventarc: invokes the event-triggered functions"
    backtest  = "Cloud Build backtest jobs: the trusted host step (jobs/cloudbuild.backtest.yaml)"
    ingester  = "GKE: the market-data ingester"
    runtime   = "GKE: agent runtime hosts (trusted; agents run in their own pods without it)"
    gke-nodes = "GKE node VMs (logs and metrics only)"
    deployer  = "Cloud Build CI/CD (cloudbuild.yaml)"
  }

  # Project-wide roles: only where the resource cannot be narrowed (Firestore has no
  # per-collection IAM; jobs and builds are project resources). The functions only read the GKE
  # cluster (endpoint, CA) to authenticate to it: Kubernetes RBAC (runtime/k8s/rbac.yaml) grants
  # them runtime StatefulSets in farm-agents and nothing else. The deployer has container.admin,
  # not developer: applying rbac.yaml creates a Role and RoleBindings, which a developer may not.
  project_roles = {
    functions = ["roles/datastore.user", "roles/bigquery.jobUser", "roles/cloudbuild.builds.editor", "roles/container.clusterViewer", "roles/logging.logWriter"]
    invoker   = ["roles/eventarc.eventReceiver"]
    backtest  = ["roles/datastore.user", "roles/bigquery.jobUser", "roles/logging.logWriter"]
    ingester  = ["roles/datastore.viewer", "roles/logging.logWriter"]
    # The runtime also keeps its session document current and reads its agent (SPEC §9):
    # Firestore cannot be narrowed to one collection. Resume reads FMEL through a query job.
    runtime   = ["roles/datastore.user", "roles/bigquery.jobUser"]
    gke-nodes = ["roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer", "roles/artifactregistry.reader"]
    deployer  = ["roles/cloudfunctions.developer", "roles/run.admin", "roles/container.admin", "roles/logging.logWriter", "roles/eventarc.viewer", "roles/pubsub.editor"]
  }

  # Who publishes to which topic (shared/schemas/topics.py names them all).
  topic_publishers = {
    "market-data"             = ["ingester"]
    "crypto-data"             = ["ingester"]
    "news-data"               = ["ingester"]
    "backtest-requests"       = ["functions"]
    "backtest-results"        = ["backtest", "functions"]
    "performance-updates"     = ["runtime"]
    "reconciliation-requests" = ["functions"]
    "runtime-watch"           = [] # Cloud Scheduler's service agent (scheduler.tf), no workload
  }
  topic_publisher_members = merge([
    for topic, who in local.topic_publishers : { for w in who : "${topic}/${w}" => { topic = topic, account = w } }
  ]...)

  # Dataset access: writers get dataEditor on the dataset, readers dataViewer.
  dataset_roles = {
    "market_data/ingester"  = "roles/bigquery.dataEditor"
    "market_data/functions" = "roles/bigquery.dataEditor" # farm data loads history; leaderboard reads
    "market_data/backtest"  = "roles/bigquery.dataViewer"
    "fmel/runtime"          = "roles/bigquery.dataEditor"
    "fmel/backtest"         = "roles/bigquery.dataEditor"
    "fmel/functions"        = "roles/bigquery.dataViewer"
    "analytics/backtest"    = "roles/bigquery.dataEditor"
    "analytics/functions"   = "roles/bigquery.dataEditor"
  }

  bucket_roles = {
    functions = "roles/storage.objectAdmin"  # store bundles, read reports
    backtest  = "roles/storage.objectAdmin"  # read bundles, write reports
    runtime   = "roles/storage.objectViewer" # read its agent's bundle
  }
}

resource "google_service_account" "workload" {
  for_each     = local.accounts
  account_id   = "farm-${each.key}"
  display_name = each.value
  depends_on   = [google_project_service.apis]
}

locals {
  sa = google_service_account.workload # short name used across files
}

resource "google_project_iam_member" "workload" {
  for_each = merge([
    for account, roles in local.project_roles : { for r in roles : "${account}/${r}" => { account = account, role = r } }
  ]...)
  project = var.project
  role    = each.value.role
  member  = "serviceAccount:${local.sa[each.value.account].email}"
}

resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.topic_publisher_members
  topic    = google_pubsub_topic.topic[each.value.topic].name
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${local.sa[each.value.account].email}"
}

# Runtimes create one subscription per market topic at start and delete it at stop
# (runtime/feeds.py): attach to the market topics, and a custom role for their own subscriptions.
resource "google_pubsub_topic_iam_member" "runtime_subscriber" {
  for_each = toset([for topic, who in local.topic_publishers : topic if contains(who, "ingester")])
  topic    = google_pubsub_topic.topic[each.key].name
  role     = "roles/pubsub.subscriber"
  member   = "serviceAccount:${local.sa["runtime"].email}"
}

resource "google_project_iam_custom_role" "runtime_subscriptions" {
  role_id     = "farmRuntimeSubscriptions"
  title       = "Farm runtime subscriptions"
  description = "Create, consume and delete the runtime's own market-data subscriptions."
  permissions = ["pubsub.subscriptions.create", "pubsub.subscriptions.delete", "pubsub.subscriptions.get", "pubsub.subscriptions.consume"]
}

resource "google_project_iam_member" "runtime_subscriptions" {
  project = var.project
  role    = google_project_iam_custom_role.runtime_subscriptions.id
  member  = "serviceAccount:${local.sa["runtime"].email}"
}

resource "google_bigquery_dataset_iam_member" "workload" {
  for_each   = local.dataset_roles
  dataset_id = google_bigquery_dataset.dataset[split("/", each.key)[0]].dataset_id
  role       = each.value
  member     = "serviceAccount:${local.sa[split("/", each.key)[1]].email}"
}

resource "google_storage_bucket_iam_member" "workload" {
  for_each = local.bucket_roles
  bucket   = google_storage_bucket.farm.name
  role     = each.value
  member   = "serviceAccount:${local.sa[each.key].email}"
}

# Trading keys: the ingester reads them, and the Broker API keys the runtimes (each trades its
# session's own account), through the Kubernetes Secrets the deployer writes; the Broker API keys
# also go to the functions that open broker accounts.
resource "google_secret_manager_secret_iam_member" "trading_keys_deployer" {
  for_each  = toset(concat(local.secret_envs.trading_keys, local.secret_envs.broker_keys))
  secret_id = google_secret_manager_secret.alpaca[each.key].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${local.sa["deployer"].email}"
}

resource "google_secret_manager_secret_iam_member" "broker_keys_functions" {
  for_each  = toset(local.secret_envs.broker_keys)
  secret_id = google_secret_manager_secret.alpaca[each.key].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${local.sa["functions"].email}"
}

resource "google_secret_manager_secret_iam_member" "redis_url_functions" {
  secret_id = google_secret_manager_secret.redis_url.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${local.sa["functions"].email}"
}

# Functions launch backtest builds that run as the backtest account.
resource "google_service_account_iam_member" "functions_act_as_backtest" {
  service_account_id = local.sa["backtest"].name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${local.sa["functions"].email}"
}

# The deployer deploys functions that run as the functions and invoker accounts.
resource "google_service_account_iam_member" "deployer_act_as" {
  for_each           = toset(["functions", "invoker"])
  service_account_id = local.sa[each.key].name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${local.sa["deployer"].email}"
}

resource "google_artifact_registry_repository_iam_member" "deployer_writer" {
  repository = google_artifact_registry_repository.farm.name
  location   = var.region
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${local.sa["deployer"].email}"
}

resource "google_artifact_registry_repository_iam_member" "backtest_reader" {
  repository = google_artifact_registry_repository.farm.name
  location   = var.region
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${local.sa["backtest"].email}"
}

resource "google_storage_bucket_iam_member" "deployer_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${local.sa["deployer"].email}"
}

# Workload Identity: each Kubernetes service account annotated in the manifests
# (generated/workloads.json) acts as its Google service account. The agent pods' account
# (farm-agents/farm-agent, runtime/k8s/serviceaccount.yaml) is annotated with none, and nothing
# here grants its principal anything: agent code holds no Google identity (docs/trust-boundary.md).
resource "google_service_account_iam_member" "workload_identity" {
  for_each           = local.workloads
  service_account_id = local.sa[trimprefix(each.value.account_id, "farm-")].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project}.svc.id.goog[${each.value.namespace}/${each.value.name}]"
}
