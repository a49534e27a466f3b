"""Start the depthseg node on one camera, optionally with rviz2 showing its outputs.

    ros2 launch depthseg depthseg.launch.py camera:=/camera/color use_compressed:=true rviz:=true

Keep the arguments in step with depthseg.launch.xml (tests/rosPackage.test.ts compares the two).
"""

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = [
    DeclareLaunchArgument(
        "namespace",
        default_value="depthseg",
        description="Node namespace; outputs appear under /<namespace>/...",
    ),
    DeclareLaunchArgument(
        "camera",
        default_value="/camera/color",
        description="Camera namespace: the node subscribes to <camera>/image_raw, "
        "<camera>/image_raw/compressed and <camera>/camera_info",
    ),
    DeclareLaunchArgument(
        "use_compressed",
        default_value="false",
        description="true: subscribe to the CompressedImage topic instead of the raw Image",
    ),
    DeclareLaunchArgument(
        "params_file",
        default_value=PathJoinSubstitution([FindPackageShare("depthseg"), "config", "depthseg.params.yaml"]),
        description="ROS 2 params-YAML of the node",
    ),
    DeclareLaunchArgument(
        "model",
        default_value="",
        description="Model bundle folder; empty keeps the params file's model (default: the bundled demo model)",
    ),
    DeclareLaunchArgument(
        "rviz",
        default_value="false",
        description="true: also start rviz2 with the bundled rviz/depthseg.rviz",
    ),
    DeclareLaunchArgument(
        "fixed_frame",
        default_value="camera_color_optical_frame",
        description="rviz2 fixed frame",
    ),
]


def depthseg_node(context: LaunchContext) -> list[Node]:
    """The node, with its parameters resolved here so `model` is only set when given."""
    camera = LaunchConfiguration("camera").perform(context)
    use_compressed = LaunchConfiguration("use_compressed").perform(context).strip().lower()
    model = LaunchConfiguration("model").perform(context)
    # Later entries override the params file; an empty model would override its `model` with "".
    parameters: list = [
        LaunchConfiguration("params_file").perform(context),
        {"image_transport": "compressed" if use_compressed in ("true", "1") else "raw"},
    ]
    if model:
        parameters.append({"model": model})
    return [
        Node(
            package="depthseg",
            executable="depthseg_node",
            name="depthseg",
            namespace=LaunchConfiguration("namespace"),
            output="screen",
            parameters=parameters,
            remappings=[
                ("image", f"{camera}/image_raw"),
                ("image/compressed", f"{camera}/image_raw/compressed"),
                ("camera_info", f"{camera}/camera_info"),
            ],
        )
    ]


def generate_launch_description() -> LaunchDescription:
    rviz = Node(
        package="rviz2",
        executable="rviz2",
        name="rviz2",
        arguments=[
            "-d",
            PathJoinSubstitution([FindPackageShare("depthseg"), "rviz", "depthseg.rviz"]),
            "-f",
            LaunchConfiguration("fixed_frame"),
        ],
        condition=IfCondition(LaunchConfiguration("rviz")),
    )
    return LaunchDescription([*ARGUMENTS, OpaqueFunction(function=depthseg_node), rviz])
