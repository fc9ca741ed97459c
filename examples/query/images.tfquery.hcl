# The web images in three Tencent Cloud regions, and every ECS image whose name starts with "web-" in the
# provider block's region.
list "cloudimage_custom_image" "tencent_web" {
  provider = cloudimage
  limit    = 1000

  config {
    cloud       = "tencentcloud"
    regions     = ["ap-guangzhou", "ap-shanghai", "ap-beijing"]
    name_prefix = "web-"
    tags        = { team = "web" }
  }
}

list "cloudimage_custom_image" "ecs_web" {
  provider = cloudimage

  config {
    cloud       = "alicloud"
    name_prefix = "web-"
    status      = "available"
  }
}
