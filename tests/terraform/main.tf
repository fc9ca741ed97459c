# A small module of the kind a user would write around cloudimage_custom_image: one golden image per cloud, named
# by convention. The tests in tests/*.tftest.hcl exercise it against cloudimage-sim.

terraform {
  required_version = ">= 1.0"
  required_providers {
    cloudimage = {
      source = "cloudimage/cloudimage"
    }
  }
}

variable "cloud" {
  description = "Backend to import into."
  type        = string

  validation {
    condition     = contains(["ucloud", "surfercloud", "tencentcloud", "alicloud", "alicloud_ens", "apsarastack"], var.cloud)
    error_message = "Unsupported cloud."
  }
}

variable "region" {
  description = "Region of the image."
  type        = string
}

variable "release" {
  description = "Release the image is built from; part of its name."
  type        = string
}

variable "source_url" {
  description = "The disk image in the cloud's object storage."
  type        = string
}

variable "platform" {
  description = "Distribution, where the cloud takes one."
  type        = string
  default     = null
}

variable "os_version" {
  description = "OS version, where the cloud takes one."
  type        = string
  default     = null
}

resource "cloudimage_custom_image" "golden" {
  cloud       = var.cloud
  region      = var.region
  name        = "golden-${var.release}"
  description = "Golden image ${var.release}"
  source_url  = var.source_url
  format      = "qcow2"
  platform    = var.platform
  os_version  = var.os_version
}

output "id" {
  value = cloudimage_custom_image.golden.id
}

output "status" {
  value = cloudimage_custom_image.golden.status
}
