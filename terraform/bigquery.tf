# Datasets and tables from shared/schemas/warehouse.py (generated/tables.json): columns,
# day partitioning, clustering and partition expirations are the code's, not a copy.
resource "google_bigquery_dataset" "dataset" {
  for_each   = local.datasets
  dataset_id = each.key
  location   = var.region
  labels     = { app = "farm" }
  #checkov:skip=CKV_GCP_81:Google-managed encryption is the platform's choice; no customer-managed key requirement
  depends_on = [google_project_service.apis]
}

resource "google_bigquery_table" "table" {
  for_each            = local.tables
  dataset_id          = google_bigquery_dataset.dataset[each.value.dataset].dataset_id
  table_id            = each.value.table
  description         = each.value.description
  schema              = jsonencode(each.value.schema)
  clustering          = length(each.value.clustering) > 0 ? each.value.clustering : null
  deletion_protection = true
  labels              = { app = "farm" }
  #checkov:skip=CKV_GCP_80:Google-managed encryption is the platform's choice; no customer-managed key requirement

  dynamic "time_partitioning" {
    for_each = each.value.partition_field == null ? [] : [each.value]
    content {
      type          = "DAY"
      field         = time_partitioning.value.partition_field
      expiration_ms = time_partitioning.value.partition_expiration_days == null ? null : time_partitioning.value.partition_expiration_days * 86400000
    }
  }
}
