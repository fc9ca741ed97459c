# Terraform 1.12 and later can import by identity instead of an ID string.
import {
  to = cloudimage_custom_image.centos
  identity = {
    cloud  = "alicloud"
    region = "cn-hangzhou"
    id     = "m-bp1g7004ksh0oeuco4b2"
  }
}
