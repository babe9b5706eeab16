# One VPC: GKE's private nodes (with NAT to reach Alpaca), Memorystore, and the Serverless VPC
# Access connector through which functions reach Redis.
resource "google_compute_network" "farm" {
  name                    = "farm"
  auto_create_subnetworks = false
  depends_on              = [google_project_service.apis]
}

# Deny all ingress by default; GKE adds its own higher-priority rules for the control plane.
resource "google_compute_firewall" "deny_ingress" {
  name      = "farm-deny-all-ingress"
  network   = google_compute_network.farm.id
  direction = "INGRESS"
  priority  = 65534
  deny {
    protocol = "all"
  }
  source_ranges = ["0.0.0.0/0"]
  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_subnetwork" "gke" {
  name                     = "farm-gke"
  network                  = google_compute_network.farm.id
  region                   = var.region
  ip_cidr_range            = "10.10.0.0/20"
  private_ip_google_access = true

  secondary_ip_range {
    range_name    = "pods"
    ip_cidr_range = "10.20.0.0/16"
  }
  secondary_ip_range {
    range_name    = "services"
    ip_cidr_range = "10.30.0.0/20"
  }
  log_config {
    aggregation_interval = "INTERVAL_5_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_router" "farm" {
  name    = "farm"
  network = google_compute_network.farm.id
  region  = var.region
}

# Private nodes have no external address: the ingester and runtimes reach Alpaca through NAT.
resource "google_compute_router_nat" "farm" {
  name                               = "farm"
  router                             = google_compute_router.farm.name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"
  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

resource "google_vpc_access_connector" "functions" {
  name          = "farm-functions"
  region        = var.region
  network       = google_compute_network.farm.name
  ip_cidr_range = "10.8.0.0/28"
  min_instances = 2
  max_instances = 3
  depends_on    = [google_project_service.apis]
}

resource "google_redis_instance" "cache" {
  #checkov:skip=CKV_GCP_97:Redis is reachable only inside the VPC (connector and GKE); the platform's redis client connects with redis:// and AUTH, not TLS
  name                    = "farm-cache"
  region                  = var.region
  tier                    = "STANDARD_HA"
  memory_size_gb          = 1
  redis_version           = "REDIS_7_0"
  authorized_network      = google_compute_network.farm.id
  auth_enabled            = true
  transit_encryption_mode = "DISABLED"
  labels                  = { app = "farm" }
  depends_on              = [google_project_service.apis]
}
