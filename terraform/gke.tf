# A private Standard cluster: a node pool for trusted pods (the ingester, system pods and the
# paper-trading runtime hosts, which hold the credentials), and a GKE Sandbox (gVisor) pool where
# only agent pods (untrusted code, no identity, no token; docs/trust-boundary.md) run. Nodes have
# no external IPs, use Workload Identity (no node credentials in pods) and Shielded VMs.
resource "google_container_cluster" "farm" {
  #checkov:skip=CKV_GCP_24:PodSecurityPolicy was removed from Kubernetes; pods are restricted by their manifests and Pod Security admission
  #checkov:skip=CKV_GCP_65:Google Groups for RBAC needs a Workspace domain; access is granted to service accounts via IAM and in-cluster RBAC
  #checkov:skip=CKV_GCP_66:Binary Authorization needs an attestor pipeline the project does not run yet; images come only from the project's Artifact Registry
  name                        = "farm"
  location                    = var.region
  network                     = google_compute_network.farm.id
  subnetwork                  = google_compute_subnetwork.gke.id
  remove_default_node_pool    = true
  initial_node_count          = 1
  deletion_protection         = true
  datapath_provider           = "ADVANCED_DATAPATH" # Dataplane V2 enforces NetworkPolicy
  enable_intranode_visibility = true
  enable_shielded_nodes       = true
  resource_labels             = { app = "farm" }

  release_channel {
    channel = "REGULAR"
  }
  workload_identity_config {
    workload_pool = "${var.project}.svc.id.goog"
  }
  ip_allocation_policy {
    cluster_secondary_range_name  = "pods"
    services_secondary_range_name = "services"
  }
  private_cluster_config {
    enable_private_nodes    = true
    enable_private_endpoint = false
    master_ipv4_cidr_block  = var.gke_master_cidr
  }
  master_authorized_networks_config {
    # The functions reach the control plane's private endpoint through their VPC connector.
    cidr_blocks {
      display_name = "functions-connector"
      cidr_block   = google_vpc_access_connector.functions.ip_cidr_range
    }
    dynamic "cidr_blocks" {
      for_each = var.gke_authorized_networks
      content {
        display_name = cidr_blocks.key
        cidr_block   = cidr_blocks.value
      }
    }
  }
  master_auth {
    client_certificate_config {
      issue_client_certificate = false
    }
  }
  network_policy {
    enabled = false # Dataplane V2 (ADVANCED_DATAPATH) enforces policies itself
  }
  logging_config {
    enable_components = ["SYSTEM_COMPONENTS", "WORKLOADS"]
  }
  monitoring_config {
    enable_components = ["SYSTEM_COMPONENTS"]
  }
  node_config {
    # Only the short-lived default pool (removed at creation) uses this.
    service_account = google_service_account.workload["gke-nodes"].email
    workload_metadata_config {
      mode = "GKE_METADATA"
    }
    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }
  }
  depends_on = [google_project_service.apis]
}

# Trusted pods only: every paper-trading session puts its host pod here (one per running agent).
resource "google_container_node_pool" "system" {
  name     = "system"
  cluster  = google_container_cluster.farm.id
  location = var.region
  autoscaling {
    min_node_count = 1
    max_node_count = 6
  }
  management {
    auto_repair  = true
    auto_upgrade = true
  }
  node_config {
    machine_type    = "e2-standard-2"
    image_type      = "COS_CONTAINERD"
    service_account = google_service_account.workload["gke-nodes"].email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    labels          = { pool = "system" }
    workload_metadata_config {
      mode = "GKE_METADATA"
    }
    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }
  }
}

# Agent pods (runtime/k8s/sandbox-statefulset.yaml) select this pool with runtimeClassName:
# gvisor; GKE taints its nodes so nothing else lands here, so no trusted pod (and no pod with a
# Google identity) shares a node with agent code.
resource "google_container_node_pool" "sandbox" {
  name     = "sandbox"
  cluster  = google_container_cluster.farm.id
  location = var.region
  autoscaling {
    min_node_count = 0
    max_node_count = 10
  }
  management {
    auto_repair  = true
    auto_upgrade = true
  }
  node_config {
    machine_type    = "e2-standard-4"
    image_type      = "COS_CONTAINERD" # GKE Sandbox requires Container-Optimized OS with containerd
    service_account = google_service_account.workload["gke-nodes"].email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    labels          = { pool = "sandbox" }
    sandbox_config {
      sandbox_type = "gvisor"
    }
    workload_metadata_config {
      mode = "GKE_METADATA"
    }
    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }
  }
}
