variable "project" {
  description = "The Google Cloud project id."
  type        = string
}

variable "region" {
  description = "Region of every regional resource (functions, GKE, Redis, Artifact Registry)."
  type        = string
  default     = "us-central1"
}

variable "alert_email" {
  description = "Where Cloud Monitoring sends alerts."
  type        = string
}

variable "website_origins" {
  description = "Origins allowed by CORS (FARM_CORS_ORIGINS), e.g. https://PROJECT.web.app."
  type        = list(string)
  validation {
    condition     = alltrue([for o in var.website_origins : can(regex("^https?://[^/]+$", o))])
    error_message = "Each website origin is scheme://host[:port] with no path, e.g. https://farm.web.app."
  }
}

variable "alpaca_secret_ids" {
  description = "Secret Manager secret id for each Alpaca key, by the environment name the code reads."
  type        = map(string)
  default = {
    APCA_API_KEY_ID            = "alpaca-api-key-id"
    APCA_API_SECRET_KEY        = "alpaca-api-secret-key"
    APCA_BROKER_API_KEY_ID     = "alpaca-broker-api-key-id"
    APCA_BROKER_API_SECRET_KEY = "alpaca-broker-api-secret-key"
  }
}

variable "bucket" {
  description = "Bucket for agent bundles and reports (default: PROJECT-farm, as FARM_BUCKET defaults)."
  type        = string
  default     = null
}

variable "gke_master_cidr" {
  description = "The private GKE control plane's /28."
  type        = string
  default     = "172.16.0.0/28"
}

variable "gke_authorized_networks" {
  description = "CIDRs allowed to reach the GKE control plane (Cloud Build private pool, operators)."
  type        = map(string)
  default     = {}
}

variable "report_retention_days" {
  description = "Backtest reports older than this move to Coldline storage."
  type        = number
  default     = 90
}

variable "function_source_object" {
  description = "Object in the sources bucket holding the zipped repository (Cloud Build uploads it)."
  type        = string
  default     = "functions/source.zip"
}
