# Tencent Cloud CVM: a CentOS image from a qcow2 file in COS, tagged.
#
# Credentials: TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (plus TENCENTCLOUD_SECURITY_TOKEN for temporary
# keys), or a tccli profile in ~/.tccli/. Renames happen in place.

terraform {
  required_providers {
    cloudimage = {
      source = "cloudimage/cloudimage"
    }
  }
}

provider "cloudimage" {
  tencentcloud {
    region = "ap-guangzhou"
  }
}

variable "release" {
  description = "Image release, part of the object key and the image name."
  type        = string
  default     = "2024-06"
}

resource "cloudimage_custom_image" "centos" {
  cloud        = "tencentcloud"
  name         = "centos-7-${var.release}"
  source_url   = "https://acme-images-1250000000.cos.ap-guangzhou.myqcloud.com/centos-7-${var.release}.qcow2"
  format       = "qcow2"
  platform     = "CentOS"
  os_version   = "7"
  architecture = "x86_64"
  license_type = "TencentCloud"

  tags = {
    release = var.release
  }
}

output "image_id" {
  value = cloudimage_custom_image.centos.id
}
