package manager

// The permissions the controllers need, for `make generate` to write config/rbac/role.yaml.
// Service accounts are read and their tokens requested for object-level workload identity;
// secrets are read for pull secrets, proxies and CAs, in the objects' own namespaces. The
// Kustomization controller applies objects of every kind as itself only through the cluster-admin
// binding of config/rbac/cluster_reconciler.yaml, as kustomize-controller does (the
// multi-tenancy component removes it); a Kustomization that names a service account applies as
// that account instead, by impersonation. The leader election Lease is granted in the
// controller's namespace only, by config/manager/leader_election.yaml.
//
// +kubebuilder:rbac:groups=source.toolkit.fluxcd.io,resources=ocirepositories;gitrepositories;buckets,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups=source.toolkit.fluxcd.io,resources=ocirepositories/status;ocirepositories/finalizers;gitrepositories/status;gitrepositories/finalizers;buckets/status;buckets/finalizers,verbs=get;patch;update
// +kubebuilder:rbac:groups=image.toolkit.fluxcd.io,resources=imagerepositories;imagepolicies,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get
// +kubebuilder:rbac:groups=image.toolkit.fluxcd.io,resources=imagerepositories/status;imagepolicies/status;imagerepositories/finalizers,verbs=get;patch;update
// +kubebuilder:rbac:groups=image.toolkit.fluxcd.io,resources=imageupdateautomations,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups=image.toolkit.fluxcd.io,resources=imageupdateautomations/status;imageupdateautomations/finalizers,verbs=get;patch;update
// +kubebuilder:rbac:groups=kustomize.toolkit.fluxcd.io,resources=kustomizations,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups=kustomize.toolkit.fluxcd.io,resources=kustomizations/status;kustomizations/finalizers,verbs=get;patch;update
// +kubebuilder:rbac:groups=notification.toolkit.fluxcd.io,resources=alerts;providers,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets;serviceaccounts;configmaps,verbs=get
// +kubebuilder:rbac:groups="",resources=serviceaccounts;users;groups,verbs=impersonate
// +kubebuilder:rbac:groups="",resources=serviceaccounts/token,verbs=create
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
