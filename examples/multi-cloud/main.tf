# One golden image, imported into several clouds with for_each. Each cloud reads the file from its own object
# storage, so the same disk is copied to each bucket first (e.g. by the pipeline that builds it).
#
# Credentials come from each cloud's environment variables or CLI profile (see examples/provider).

terraform {
  required_providers {
    cloudimage = {
      source = "cloudimage/cloudimage"
    }
  }
}

provider "cloudimage" {}

variable "release" {
  description = "Image release; part of every object key and image name."
  type        = string
  default     = "2024-06"
}

locals {
  # Per cloud: region, where the file is, and the OS fields that cloud takes (null where it takes none).
  targets = {
    ucloud = {
      region     = "cn-bj2"
      source_url = "https://acme-images.cn-bj.ufileos.com/golden-${var.release}.qcow2"
      platform   = "CentOS"
      os_version = "CentOS 7.9 64"
    }
    tencentcloud = {
      region     = "ap-guangzhou"
      source_url = "https://acme-images-1250000000.cos.ap-guangzhou.myqcloud.com/golden-${var.release}.qcow2"
      platform   = "CentOS"
      os_version = "7"
    }
    alicloud = {
      region     = "cn-hangzhou"
      source_url = "oss://acme-images/golden-${var.release}.qcow2"
      platform   = "CentOS"
      os_version = null
    }
    alicloud_ens = {
      region     = "cn-beijing"
      source_url = "oss://acme-edge-images/golden-${var.release}.qcow2"
      platform   = null
      os_version = "7.9"
    }
  }
}

resource "cloudimage_custom_image" "golden" {
  for_each = local.targets

  cloud      = each.key
  region     = each.value.region
  name       = "golden-${var.release}"
  source_url = each.value.source_url
  format     = "qcow2"
  platform   = each.value.platform
  os_version = each.value.os_version
}

output "image_ids" {
  description = "Image ID per cloud."
  value       = { for cloud, image in cloudimage_custom_image.golden : cloud => image.id }
}
