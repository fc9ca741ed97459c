# One import, every region and account: an image imported once into Alibaba Cloud ECS, copied to two more regions
# and shared with two accounts (the image and each copy: the cloud shares per region).
#
# Adding a region later copies to that region only, in place; removing one deletes only that copy. Nothing about
# the copies ever replaces the image. `copies` reports each copy's ID by region, for the resources that boot from
# it in that region.
#
# Credentials: ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY, or the aliyun CLI profile (see examples/provider).

terraform {
  required_providers {
    cloudimage = {
      source = "cloudimage/cloudimage"
    }
  }
}

provider "cloudimage" {
  alicloud {
    region = "cn-hangzhou"
  }
}

variable "regions" {
  description = "The regions the image is copied to, besides its own."
  type        = set(string)
  default     = ["cn-shanghai", "cn-beijing"]
}

resource "cloudimage_custom_image" "golden" {
  cloud        = "alicloud"
  name         = "golden-2024-06"
  source_url   = "oss://acme-images/golden/2024-06.qcow2"
  format       = "qcow2"
  platform     = "Ubuntu"
  architecture = "x86_64"

  share_with_accounts = ["1234567890123456", "6543210987654321"]

  dynamic "copy" {
    for_each = var.regions
    content {
      region = copy.value
    }
  }

  # An encrypted copy with a key of your own.
  copy {
    region     = "cn-shenzhen"
    name       = "golden-2024-06-encrypted"
    encrypted  = true
    kms_key_id = "0e478b7a-4262-4802-b8cb-00d3fb40****"
  }

  timeouts {
    create = "3h"
    update = "2h"
  }
}

output "image_ids" {
  description = "The image ID in each region."
  value = merge(
    { (cloudimage_custom_image.golden.region) = cloudimage_custom_image.golden.id },
    { for region, copy in cloudimage_custom_image.golden.copies : region => copy.id },
  )
}
