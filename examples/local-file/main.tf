# A disk image built on this machine (Packer's qemu builder, virt-builder, mkosi, a CI job) to a bootable Alibaba
# Cloud ECS image in one resource:
#
#   terraform plan    reads the file: its SHA-256 (remembered per file in ~/.cache, so an unchanged 10 GiB file is
#                     not read again), its format from its own bytes and its boot mode from its partition table;
#                     a configured format or boot_mode that disagrees is an error here, not 30 minutes into apply.
#   terraform apply   uploads it to OSS (multipart, 4 parts in flight, each verified; an interrupted apply resumes
#                     the upload), imports the uploaded object, waits until the image is available, then deletes
#                     the uploaded object (keep_uploaded_object = true keeps it).
#
# Rebuilding the file with other content replaces the image; an unchanged file plans nothing.
#
# Credentials: ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY (they sign the OSS upload too), or the aliyun CLI
# profile. The RAM user needs oss:PutObject, oss:GetObject, oss:DeleteObject and the multipart actions on the
# bucket, and ECS must be allowed to read OSS (the AliyunECSImageImportDefaultRole RAM role).

terraform {
  required_providers {
    cloudimage = {
      source = "cloudimage/cloudimage"
    }
  }
}

variable "image_file" {
  description = "The disk image to import, e.g. Packer's output."
  type        = string
  default     = "output-ubuntu/ubuntu-22.04.qcow2"
}

provider "cloudimage" {
  alicloud {
    region = "cn-hangzhou"
    # storage_endpoint = "https://s3.oss-cn-hangzhou-internal.aliyuncs.com" # e.g. from a VPC
  }
}

resource "cloudimage_custom_image" "ubuntu" {
  cloud       = "alicloud"
  name        = "ubuntu-22-04-local"
  source_file = "${path.module}/${var.image_file}"
  upload_to   = "oss://acme-images/imports/ubuntu-22.04.qcow2"
  platform    = "Ubuntu"
  # format and boot_mode are read from the file; set them to have them checked instead.

  timeouts {
    create = "90m"
  }
}

output "image_id" {
  value = cloudimage_custom_image.ubuntu.id
}

output "detected" {
  description = "What the plan read from the file."
  value = {
    format    = cloudimage_custom_image.ubuntu.format
    boot_mode = cloudimage_custom_image.ubuntu.boot_mode
    sha256    = cloudimage_custom_image.ubuntu.source_sha256
  }
}
